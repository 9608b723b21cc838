// CKernelSupport is header-only (static inline prefetch hints); SwiftPM needs one source file.
#include "CKernelSupport.h"

// CKernelSupport is header-only (static inline prefetch hints and a transpose); SwiftPM needs one source file.
#include "CKernelSupport.h"

#ifndef KERNELCHECK_CHDF5_SHIM_H
#define KERNELCHECK_CHDF5_SHIM_H
#include <hdf5.h>
// HDF5's type identifiers (H5T_NATIVE_FLOAT, …) are macros over global variables that need
// H5open(); Swift cannot import them, so these static inline getters hand them over.
static inline hid_t kc_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t kc_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t kc_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t kc_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t kc_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t kc_h5s_all(void) { return H5S_ALL; }
static inline hid_t kc_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t kc_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t kc_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t kc_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned kc_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned kc_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned kc_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline size_t kc_h5t_variable(void) { return H5T_VARIABLE; }
#endif

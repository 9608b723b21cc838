#ifndef KERNELCHECK_CHDF5_SHIM_H
#define KERNELCHECK_CHDF5_SHIM_H
#include <hdf5.h>
#include <string.h>
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
static inline hid_t kc_h5i_invalid_hid(void) { return H5I_INVALID_HID; }
// File (on-disk) types: datasets are stored little-endian whatever the host, as h5py does on
// the usual hosts, so a file written here is byte-identical across machines.
static inline hid_t kc_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t kc_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t kc_h5t_std_i64le(void) { return H5T_STD_I64LE; }

// The functions below paper over API differences between HDF5 1.10 (installed here) and
// 1.12+ (where H5Oget_info* take H5O_info2_t and H5Fis_hdf5 is deprecated), so the Swift
// layer calls one stable name. Each returns a negative value on failure and leaves HDF5's
// error stack in place for kc_error_stack_text.

/// Object type (H5O_TYPE_GROUP, H5O_TYPE_DATASET, …) of the object `name` names relative to
/// `loc`, or -1 if it cannot be resolved.
static inline int kc_object_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#elif H5_VERSION_GE(1, 10, 3)
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    return (int)info.type;
}

/// Number of attributes attached to the open object `obj`, or -1 on failure.
static inline long long kc_attribute_count(hid_t obj) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#elif H5_VERSION_GE(1, 10, 3)
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info(obj, &info) < 0) return -1;
#endif
    return (long long)info.num_attrs;
}

/// > 0 if `path` starts with an HDF5 signature, 0 if it does not, < 0 if it cannot be read.
static inline int kc_file_is_hdf5(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    return (int)H5Fis_accessible(path, H5P_DEFAULT);
#else
    return (int)H5Fis_hdf5(path);
#endif
}

/// Buffer that kc_error_stack_text fills while walking HDF5's error stack.
typedef struct kc_error_text {
    char *buffer;
    size_t capacity;
    size_t length;
} kc_error_text;

static herr_t kc_error_walk_append(unsigned n, const H5E_error2_t *err, void *client) {
    kc_error_text *text = (kc_error_text *)client;
    const char *parts[4] = {n > 0 ? "; " : "", err->func_name ? err->func_name : "?", ": ",
                            err->desc ? err->desc : "(no description)"};
    for (int p = 0; p < 4; p++) {
        size_t len = strlen(parts[p]);
        size_t room = text->capacity - 1 - text->length;
        if (len > room) len = room;
        memcpy(text->buffer + text->length, parts[p], len);
        text->length += len;
    }
    text->buffer[text->length] = '\0';
    return 0;
}

/// Writes HDF5's current error stack (API function first, most specific cause last) into
/// `buffer` as "func: description; func: description…", truncated to `capacity - 1` bytes.
/// Returns the number of bytes written.
static inline size_t kc_error_stack_text(char *buffer, size_t capacity) {
    if (capacity == 0) return 0;
    kc_error_text text = {buffer, capacity, 0};
    buffer[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, kc_error_walk_append, &text);
    return text.length;
}
#endif

#ifndef KERNELCHECK_CHDF5_SHIM_H
#define KERNELCHECK_CHDF5_SHIM_H
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
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
/// Creation properties for a dataset (`group` = 0) or group (`group` = 1) without
/// modification times in its object header, so that writing the same content twice gives the
/// same bytes (as h5py writes by default). The caller closes it.
static inline hid_t kc_untimed_creation_properties(int group) {
    hid_t plist = H5Pcreate(group ? H5P_GROUP_CREATE : H5P_DATASET_CREATE);
    if (plist >= 0) H5Pset_obj_track_times(plist, 0);
    return plist;
}
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
static inline hid_t kc_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t kc_h5t_std_u8le(void) { return H5T_STD_U8LE; }
/// A new IEEE binary16 little-endian type (sign bit 15, exponent bits 10-14 with bias 15,
/// mantissa bits 0-9), built as h5py builds numpy's float16: libhdf5 1.10 has no predefined
/// H5T_IEEE_F16LE (1.14.4 added one with the same layout). The caller closes it (H5Tclose).
static inline hid_t kc_h5t_ieee_f16le_create(void) {
    hid_t type = H5Tcopy(H5T_IEEE_F32LE);
    if (type < 0) return type;
    if (H5Tset_fields(type, 15, 10, 5, 0, 10) < 0 || H5Tset_size(type, 2) < 0 || H5Tset_ebias(type, 15) < 0) {
        H5Tclose(type);
        return -1;
    }
    return type;
}

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
/// Names collected by one pass over a group's links or an object's attributes: `count`
/// NUL-terminated names back to back in `bytes` (malloc'd; free with kc_name_list_free).
typedef struct kc_name_list {
    char *bytes;
    size_t length;
    size_t capacity;
    size_t count;
    int out_of_memory;
} kc_name_list;

static inline herr_t kc_name_list_append(kc_name_list *list, const char *name) {
    size_t size = strlen(name) + 1;
    if (list->length + size > list->capacity) {
        size_t capacity = list->capacity ? list->capacity : 4096;
        while (capacity < list->length + size) capacity *= 2;
        char *grown = (char *)realloc(list->bytes, capacity);
        if (!grown) { list->out_of_memory = 1; return -1; }
        list->bytes = grown;
        list->capacity = capacity;
    }
    memcpy(list->bytes + list->length, name, size);
    list->length += size;
    list->count += 1;
    return 0;
}

static inline void kc_name_list_free(kc_name_list *list) {
    free(list->bytes);
    list->bytes = NULL;
    list->length = list->capacity = list->count = 0;
}

#if H5_VERSION_GE(1, 12, 0)
static inline herr_t kc_link_name_visit(hid_t group, const char *name, const H5L_info2_t *info, void *list) {
    (void)group; (void)info;
    return kc_name_list_append((kc_name_list *)list, name);
}
#else
static inline herr_t kc_link_name_visit(hid_t group, const char *name, const H5L_info_t *info, void *list) {
    (void)group; (void)info;
    return kc_name_list_append((kc_name_list *)list, name);
}
#endif

/// Appends the names of every link of the open group `group` to `list` in one iteration
/// (name order) — linear in the member count, unlike one H5Lget_name_by_idx per index.
static inline herr_t kc_link_names(hid_t group, kc_name_list *list) {
    hsize_t index = 0;
#if H5_VERSION_GE(1, 12, 0)
    return H5Literate2(group, H5_INDEX_NAME, H5_ITER_INC, &index, kc_link_name_visit, list);
#else
    return H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, kc_link_name_visit, list);
#endif
}

static inline herr_t kc_attribute_name_visit(hid_t object, const char *name, const H5A_info_t *info, void *list) {
    (void)object; (void)info;
    return kc_name_list_append((kc_name_list *)list, name);
}

/// Appends the names of every attribute of the open object `object` to `list` in one pass.
static inline herr_t kc_attribute_names(hid_t object, kc_name_list *list) {
    hsize_t index = 0;
    return H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, kc_attribute_name_visit, list);
}

/// The type (H5L_TYPE_HARD, _SOFT, _EXTERNAL, …) of the link `name` relative to `loc`,
/// without following it, or -1.
static inline int kc_link_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5L_info2_t info;
    if (H5Lget_info2(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#else
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
#endif
    return (int)info.type;
}

/// Writes where the soft or external link `name` points ("/path" for a soft link,
/// "file:/path" for an external one) into `buffer` (NUL-terminated, truncated to
/// `capacity - 1` bytes). Returns 0, or -1 when the link value cannot be read.
static inline int kc_link_target(hid_t loc, const char *name, char *buffer, size_t capacity) {
    if (capacity == 0) return -1;
    buffer[0] = '\0';
    char value[4096];
    memset(value, 0, sizeof value);
    if (H5Lget_val(loc, name, value, sizeof value - 1, H5P_DEFAULT) < 0) return -1;
    int type = kc_link_type(loc, name);
    if (type == (int)H5L_TYPE_EXTERNAL) {
        const char *file = NULL, *object = NULL;
        unsigned flags = 0;
        if (H5Lunpack_elink_val(value, sizeof value, &flags, &file, &object) < 0) return -1;
        snprintf(buffer, capacity, "%s:%s", file ? file : "?", object ? object : "?");
    } else {
        snprintf(buffer, capacity, "%s", value);
    }
    return 0;
}

/// How the open dataset `dataset` stores its values: 0 in the file (contiguous, chunked or
/// compact), 1 in external raw files (H5Pset_external), 2 as a virtual dataset that maps
/// other datasets (possibly in other files), 3 through a filter this libhdf5 does not have
/// (its id in `*filter`, so the caller can name it instead of printing libhdf5's plugin-search
/// error stack); -1 when the creation properties cannot be read.
static inline int kc_dataset_storage(hid_t dataset, int *filter) {
    hid_t plist = H5Dget_create_plist(dataset);
    if (plist < 0) return -1;
    int external = H5Pget_external_count(plist);
    H5D_layout_t layout = H5Pget_layout(plist);
    int filters = H5Pget_nfilters(plist), missing = 0;
    for (int i = 0; i < filters && !missing; i++) {
        unsigned flags = 0;
        size_t count = 0;
        H5Z_filter_t id = H5Pget_filter2(plist, (unsigned)i, &flags, &count, NULL, 0, NULL, NULL);
        if (id >= 0 && H5Zfilter_avail(id) <= 0) missing = (int)id;
    }
    H5Pclose(plist);
    if (external < 0 || layout < 0 || filters < 0) return -1;
    if (external > 0) return 1;
    if (layout == H5D_VIRTUAL) return 2;
    if (missing) {
        *filter = missing;
        return 3;
    }
    return 0;
}
#endif

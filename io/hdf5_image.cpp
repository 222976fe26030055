// The bytes of an in-memory HDF5 file (H5File::create_in_memory, close_to_image) without a copy.
//
// The core driver keeps the file in one growing buffer. Its allocations go through HDF5's file-image
// callbacks (H5Pset_file_image_callbacks), which we give, so the buffer is ours: we zero what it grows
// by (the bytes are the same for the same content), and when the file closes the driver "frees" it
// through our callback, which keeps it instead. Closing writes the final superblock (status flags
// cleared, checksum over them), so the buffer is then the complete file: no copy, and no repair of the
// superblock checksum that H5Fget_file_image's copy of an open file needs in libhdf5 1.10.8.
// The file's length is its end of allocation, read with H5Fget_file_image(file, NULL, 0) (no copy);
// the buffer may be longer (the driver grows it in 1 MiB steps).
#include <cstdlib>
#include <cstring>

#include "io/hdf5_internal.h"

namespace gpt {

using namespace h5detail;


namespace {

// The driver's buffer is the one it opens the file with or resizes; other allocations (copies of a
// property list's image, which we never set) are plain.
bool is_file_buffer(H5FD_file_image_op_t op) {
    return op == H5FD_FILE_IMAGE_OP_FILE_OPEN || op == H5FD_FILE_IMAGE_OP_FILE_RESIZE;
}

void* image_malloc(std::size_t size, H5FD_file_image_op_t op, void* udata) {
    auto* image = static_cast<ImageBuffer*>(udata);
    void* p = std::calloc(size, 1);
    if (p && is_file_buffer(op)) image->data = static_cast<unsigned char*>(p), image->allocated = size;
    return p;
}

void* image_memcpy(void* dest, const void* src, std::size_t size, H5FD_file_image_op_t, void*) {
    return std::memcpy(dest, src, size);
}

void* image_realloc(void* ptr, std::size_t size, H5FD_file_image_op_t op, void* udata) {
    auto* image = static_cast<ImageBuffer*>(udata);
    const std::size_t old = ptr && ptr == image->data ? image->allocated : 0;
    auto* p = static_cast<unsigned char*>(std::realloc(ptr, size));
    if (!p) return nullptr;
    if (size > old) std::memset(p + old, 0, size - old);  // grown bytes are zeros, whatever malloc left
    if (is_file_buffer(op) || ptr == image->data) image->data = p, image->allocated = size;
    return p;
}

herr_t image_free(void* ptr, H5FD_file_image_op_t op, void* udata) {
    auto* image = static_cast<ImageBuffer*>(udata);
    if (ptr && ptr == image->data) {
        if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE) {
            image->closed = true;  // kept: ~ImageBuffer frees it
            return 0;
        }
        image->data = nullptr, image->allocated = 0;
    }
    std::free(ptr);
    return 0;
}

// The ImageBuffer outlives the file (H5File::image_), so HDF5's copies of the pointer need no care.
void* udata_copy(void* udata) { return udata; }
herr_t udata_free(void*) { return 0; }

}  // namespace

FileImage::FileImage() = default;
FileImage::FileImage(std::unique_ptr<ImageBuffer> buffer, std::size_t size) : buffer_(std::move(buffer)), size_(size) {}
FileImage::~FileImage() = default;
FileImage::FileImage(FileImage&&) noexcept = default;
FileImage& FileImage::operator=(FileImage&&) noexcept = default;

std::string_view FileImage::bytes() const {
    if (!buffer_ || !buffer_->data) return {};
    return {reinterpret_cast<const char*>(buffer_->data), size_};
}

H5File::~H5File() = default;
H5File::H5File(H5File&&) noexcept = default;
H5File& H5File::operator=(H5File&&) noexcept = default;

H5File H5File::create_in_memory(const std::string& name) {
    quiet_errors();
    auto image = std::make_unique<ImageBuffer>();
    H5Id fapl = file_access_properties(name);
    check_status(H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, /*backing_store=*/0), name, "file",
                 "cannot select the in-memory driver");
    H5FD_file_image_callbacks_t callbacks{&image_malloc, &image_memcpy, &image_realloc, &image_free,
                                          &udata_copy,   &udata_free,   image.get()};
    check_status(H5Pset_file_image_callbacks(fapl.get(), &callbacks), name, "file",
                 "cannot set the in-memory file's allocation callbacks");
    H5File file = create_with(name, std::move(fapl));
    file.image_ = std::move(image);
    return file;
}

FileImage H5File::close_to_image() {
    if (!image_ || !file_id_.valid()) fail(file_, "file", "close_to_image needs an open in-memory file");
    check_status(H5Fflush(file_id_.get(), H5F_SCOPE_GLOBAL), file_, "file", "cannot flush");
    const ssize_t size = H5Fget_file_image(file_id_.get(), nullptr, 0);  // the end of allocation: no copy
    if (size < 0) fail(file_, "file", "cannot get the file image's size");
    close();
    if (!image_->closed || !image_->data || static_cast<std::size_t>(size) > image_->allocated)
        fail(file_, "file", "the in-memory file's buffer was not handed over when it closed");
    return FileImage(std::move(image_), static_cast<std::size_t>(size));
}

}  // namespace gpt

// Atomic replacement of a file: PATH.tmp written beside it and fsynced, renamed over PATH, the folder
// fsynced, so a reader or a crash sees the old file or the new one, never a part. Plain POSIX, no HDF5:
// every file the program writes goes through here (checkpoints through io/hdf5.h's write_atomically,
// which writes the HDF5 file as PATH.tmp through a driver that checks every write, then takes these steps).
#pragma once

#include <string>
#include <string_view>

namespace gpt {

// Plain bytes (config.toml, report.html, a rewritten metrics.jsonl): PATH.tmp written
// and fsynced, renamed over PATH, the folder fsynced; the .tmp is removed on failure. Throws
// std::runtime_error naming the file and errno's message.
void write_bytes_atomically(const std::string& path, std::string_view bytes);

}  // namespace gpt

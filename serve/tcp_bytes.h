// Bytes a TCP connection has received so far (Linux TCP_INFO, tcpi_bytes_received, Linux >= 4.1), or -1
// when the kernel does not say. In a file of its own: <linux/tcp.h> cannot be included next to
// <netinet/tcp.h>, which httplib.h includes.
#pragma once

#include <cstdint>

namespace gpt {

int64_t tcp_bytes_received(int fd);

}  // namespace gpt

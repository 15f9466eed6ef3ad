// The key log of PROTOCOL.md section 3 (debugging only, off by default), like
// SSLKEYLOGFILE for TLS: one line per stream key, so that captures can be opened
// by `replicast decode --key-log` and the Wireshark dissector.
//
//   REPLICAST_KEY <stream_id decimal> <key_epoch decimal> <key: 64 lowercase hex digits>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/gcm.hpp"

namespace replicast::crypto {

struct KeyLogEntry {
    std::uint32_t stream_id = 0;
    std::uint32_t epoch = 0;
    Key key{};
};

/// Parses one line. @return an empty string and fills `out`, or the reason the line is bad.
std::string parse_key_log_line(std::string_view line, KeyLogEntry& out);

/// The line for `e`, without the newline.
std::string format_key_log_line(const KeyLogEntry& e);

/// Reads a whole key log; blank lines and lines starting with '#' are skipped.
/// Throws std::runtime_error "PATH:LINE: reason" on a bad line or an unreadable file.
std::vector<KeyLogEntry> load_key_log(const std::string& path);

/// Appends lines to a key log, created with mode 0600 (and narrowed to 0600 if
/// it existed wider: it holds keys). Throws std::runtime_error naming the path.
class KeyLogWriter {
public:
    explicit KeyLogWriter(const std::string& path);
    ~KeyLogWriter();
    KeyLogWriter(const KeyLogWriter&) = delete;
    KeyLogWriter& operator=(const KeyLogWriter&) = delete;

    /// Appends one line (a single write, so lines never interleave). Throws on a failed write.
    void append(const KeyLogEntry& e);

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace replicast::crypto

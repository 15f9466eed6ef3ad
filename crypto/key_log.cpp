#include "crypto/key_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace replicast::crypto {

namespace {

constexpr std::string_view kTag = "REPLICAST_KEY";

bool parse_u32(std::string_view s, std::uint32_t& out) {
    if (s.empty() || s.size() > 10) return false;
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v > 0xffffffffu) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < line.size()) {
        while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
        std::size_t end = at;
        while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
        if (end > at) out.push_back(line.substr(at, end - at));
        at = end;
    }
    return out;
}

}  // namespace

std::string parse_key_log_line(std::string_view line, KeyLogEntry& out) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto f = fields(line);
    if (f.size() != 4) return "expected 4 fields (REPLICAST_KEY stream_id epoch key), found " + std::to_string(f.size());
    if (f[0] != kTag) return "line does not start with REPLICAST_KEY";
    if (!parse_u32(f[1], out.stream_id)) return "stream_id \"" + std::string(f[1]) + "\" is not a 32-bit decimal";
    if (!parse_u32(f[2], out.epoch)) return "key_epoch \"" + std::string(f[2]) + "\" is not a 32-bit decimal";
    if (out.epoch == 0) return "key_epoch 0 means unsealed and has no key";
    if (f[3].size() != 2 * kKeySize) return "key must be 64 hex digits, found " + std::to_string(f[3].size());
    for (std::size_t i = 0; i < kKeySize; ++i) {
        unsigned v = 0;
        const char* p = f[3].data() + 2 * i;
        const auto r = std::from_chars(p, p + 2, v, 16);
        if (r.ec != std::errc{} || r.ptr != p + 2) return "key has a character that is not a hex digit";
        out.key[i] = static_cast<std::uint8_t>(v);
    }
    return {};
}

std::string format_key_log_line(const KeyLogEntry& e) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string line = std::string(kTag) + " " + std::to_string(e.stream_id) + " " + std::to_string(e.epoch) + " ";
    for (std::uint8_t b : e.key) {
        line.push_back(hex[b >> 4]);
        line.push_back(hex[b & 15]);
    }
    return line;
}

std::vector<KeyLogEntry> load_key_log(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open key log: " + std::strerror(errno));
    std::vector<KeyLogEntry> out;
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        const std::string_view v(line);
        const auto first = v.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || v[first] == '#') continue;
        KeyLogEntry e;
        if (const std::string why = parse_key_log_line(v, e); !why.empty()) {
            throw std::runtime_error(path + ":" + std::to_string(n) + ": " + why);
        }
        out.push_back(e);
    }
    return out;
}

KeyLogWriter::KeyLogWriter(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open key log for writing: " + std::strerror(errno));
    if (::fchmod(fd_, 0600) != 0) {
        const int err = errno;
        ::close(fd_);
        throw std::runtime_error(path + ": cannot restrict key log to mode 0600: " + std::strerror(err));
    }
}

KeyLogWriter::~KeyLogWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void KeyLogWriter::append(const KeyLogEntry& e) {
    const std::string line = format_key_log_line(e) + "\n";
    const ssize_t w = ::write(fd_, line.data(), line.size());
    if (w != static_cast<ssize_t>(line.size())) {
        throw std::runtime_error(path_ + ": cannot append to key log: " + (w < 0 ? std::strerror(errno) : "short write"));
    }
}

}  // namespace replicast::crypto

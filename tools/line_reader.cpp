#include "tools/line_reader.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace replicast::tools {

namespace {
constexpr std::size_t kIoBuffer = 1 << 20;
}

LineReader::LineReader(const std::string& path) : path_(path) {
    if (path == "-") {
        // stdin outlives the reader, and so must its buffer (static storage,
        // never freed: stdio closes stdin after static destructors ran); set
        // once, before its first read, as setvbuf requires.
        static char stdin_buffer[kIoBuffer];
        static const bool stdin_buffered = std::setvbuf(stdin, stdin_buffer, _IOFBF, kIoBuffer) == 0;
        (void)stdin_buffered;  // a failure only leaves the default buffer
        file_ = stdin;
        return;
    }
    file_ = std::fopen(path.c_str(), "r");
    if (file_ == nullptr) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    owned_ = true;
    io_buffer_ = std::make_unique<char[]>(kIoBuffer);
    if (std::setvbuf(file_, io_buffer_.get(), _IOFBF, kIoBuffer) != 0) io_buffer_.reset();
}

LineReader::~LineReader() {
    if (owned_) std::fclose(file_);  // before its buffer goes (members are destroyed after this body)
    std::free(line_);
}

bool LineReader::next(std::string_view& line) {
    const ssize_t n = ::getline(&line_, &capacity_, file_);
    if (n < 0) {
        // Not the end unless the stream says so: getline fails with ENOMEM
        // or EOVERFLOW without setting the error flag on older glibc.
        if (std::ferror(file_) || !std::feof(file_)) {
            throw std::runtime_error("cannot read " + path_ + ": " + std::strerror(errno));
        }
        return false;
    }
    std::size_t len = static_cast<std::size_t>(n);
    if (len > 0 && line_[len - 1] == '\n') --len;
    line = std::string_view(line_, len);
    return true;
}

}  // namespace replicast::tools

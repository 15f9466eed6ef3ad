// Lines of a file or of stdin, for the commands that take records a line at
// a time (`load`, `publish --file`). libc's getline(3) on a FILE* with a
// 1 MiB buffer: a pipe or file is read in large blocks and each line found
// with memchr. std::getline on std::cin instead goes a character at a time
// through stdio (getc/ungetc, the streams being synced with stdio): 40 % of
// `replicast load`'s CPU at 320 k records/s (bench/RESULTS.md, "e2e").
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace replicast::tools {

class LineReader {
public:
    /// `path` "-" is stdin. Throws std::runtime_error naming the path when it cannot be opened.
    explicit LineReader(const std::string& path);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    /// The next line without its '\n' (valid until the next call); false at
    /// the end. Throws std::runtime_error on a read error.
    bool next(std::string_view& line);

private:
    std::string path_;
    FILE* file_ = nullptr;
    bool owned_ = false;
    std::unique_ptr<char[]> io_buffer_;
    char* line_ = nullptr;  // getline's, grown as needed
    std::size_t capacity_ = 0;
};

}  // namespace replicast::tools

#include "engine/tx/lcores.hpp"

#include <algorithm>

namespace replicast::tx {

namespace {

class LcoresParser {
public:
    explicit LcoresParser(std::string_view text) : text_(text) {}

    std::string run(std::vector<unsigned>& lcores) {
        do {
            std::vector<unsigned> ids;
            bool bare_range = false;
            if (!set(kMaxLcoreId, "lcore", ids, bare_range)) return why_;
            if (peek() == '@') {
                // The EAL takes '@' after one id or a group, not after a bare range.
                if (bare_range) return at("a range takes '@' only inside parentheses, as in (1-3)@5");
                ++pos_;
                std::vector<unsigned> cpus;
                if (!set(kMaxCpuId, "CPU", cpus, bare_range)) return why_;
            }
            // A repeated lcore is remapped by the EAL, not refused: listed once.
            for (unsigned id : ids) {
                if (std::find(lcores.begin(), lcores.end(), id) == lcores.end()) lcores.push_back(id);
            }
        } while (take(','));
        if (pos_ != text_.size()) return at("expected ',' or '@'");
        return "";
    }

private:
    char peek() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }
    bool take(char c) {
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    std::string at(const std::string& what) const {
        return what + " at position " + std::to_string(pos_ + 1) + " of \"" + std::string(text_) + "\"";
    }
    bool fail(const std::string& what) {
        why_ = at(what);
        return false;
    }

    bool id(unsigned max, const char* kind, unsigned& out) {
        peek();
        const std::size_t start = pos_;
        unsigned long long v = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
            v = std::min<unsigned long long>(v * 10 + static_cast<unsigned>(text_[pos_] - '0'), 1ULL << 32);  // saturates
            ++pos_;
        }
        if (pos_ == start) return fail(std::string("expected ") + (kind[0] == 'l' ? "an " : "a ") + kind + " id");
        if (v > max) {
            const std::string digits(text_.substr(start, pos_ - start));
            pos_ = start;
            return fail(std::string(kind) + " id " + digits + " is above " + std::to_string(max));
        }
        out = static_cast<unsigned>(v);
        return true;
    }
    // id or id-id (either order, as the EAL takes it), appended to `out`
    bool item(unsigned max, const char* kind, std::vector<unsigned>& out, bool& range) {
        unsigned lo = 0, hi = 0;
        if (!id(max, kind, lo)) return false;
        hi = lo;
        range = take('-');
        if (range && !id(max, kind, hi)) return false;
        for (unsigned v = std::min(lo, hi); v <= std::max(lo, hi); ++v) out.push_back(v);
        return true;
    }
    bool set(unsigned max, const char* kind, std::vector<unsigned>& out, bool& bare_range) {
        bare_range = false;
        if (!take('(')) return item(max, kind, out, bare_range);
        bool range = false;
        do {
            if (!item(max, kind, out, range)) return false;
        } while (take(','));
        if (!take(')')) return fail("expected ')'");
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::string why_;
};

}  // namespace

std::string parse_lcores(std::string_view text, std::vector<unsigned>& lcores) {
    lcores.clear();
    if (text.find_first_not_of(" \t") == std::string_view::npos) return "is empty";
    return LcoresParser(text).run(lcores);
}

}  // namespace replicast::tx

#include "tools/load_line.hpp"

#include <google/protobuf/util/json_util.h>

#include <charconv>

#include "load_record.pb.h"

namespace replicast::tools {

LoadFormat guess_format(std::string_view first) {
    const auto at = first.find_first_not_of(" \t");
    return at != std::string_view::npos && first[at] == '{' ? LoadFormat::json : LoadFormat::tsv;
}

namespace {

// Error messages quote the offending field, but only its start: a message is
// one line on the operator's terminal, not an echo of a megabyte of input.
std::string quoted(std::string_view s) {
    constexpr std::size_t kMax = 40;
    return '"' + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...\"" : "\"");
}

std::string check(const LoadOp& op) {
    const wire::WireError e = wire::check_update(op.view());
    return e == wire::WireError::ok ? std::string() : std::string(wire::describe(e));
}

std::string parse_json(std::string_view line, LoadOp& out) {
    LoadRecord rec;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(std::string(line), &rec, options);
    if (!status.ok()) return "not a JSON record: " + std::string(status.message()).substr(0, 200);
    if (rec.group() > 0xffff) return "group " + std::to_string(rec.group()) + " is over 65535";
    if (!rec.value().empty() && !rec.value_base64().empty()) return "give value or value_base64, not both";
    if (rec.op().empty() || rec.op() == "put") {
        out.op = wire::Op::put;
    } else if (rec.op() == "del") {
        out.op = wire::Op::del;
        if (!rec.value().empty() || !rec.value_base64().empty()) return "a del carries no value";
    } else {
        return "op " + quoted(rec.op()) + " is not put or del";
    }
    out.key = rec.key();
    out.value = rec.value_base64().empty() ? rec.value() : rec.value_base64();
    out.group = static_cast<std::uint16_t>(rec.group());
    return check(out);
}

std::string parse_tsv(std::string_view line, LoadOp& out) {
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) return "expected KEY<TAB>VALUE[<TAB>GROUP], found no tab";
    out.op = wire::Op::put;
    out.key = std::string(line.substr(0, tab));
    std::string_view rest = line.substr(tab + 1);
    out.group = 0;
    if (const auto tab2 = rest.find('\t'); tab2 != std::string_view::npos) {
        const std::string_view g = rest.substr(tab2 + 1);
        unsigned v = 0;
        const auto r = std::from_chars(g.data(), g.data() + g.size(), v);
        if (r.ec != std::errc{} || r.ptr != g.data() + g.size() || v > 0xffff) {
            return "group " + quoted(g) + " is not a number 0..65535";
        }
        out.group = static_cast<std::uint16_t>(v);
        rest = rest.substr(0, tab2);
    }
    out.value = std::string(rest);
    return check(out);
}

}  // namespace

std::string parse_load_line(std::string_view line, LoadFormat format, LoadOp& out) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t");
    if (line.empty() || (format == LoadFormat::json && first == std::string_view::npos) || line[0] == '#') {
        return "skip";
    }
    return format == LoadFormat::json ? parse_json(line, out) : parse_tsv(line, out);
}

}  // namespace replicast::tools

// `replicast decode`: read a capture (or hex datagrams), validate every replicast
// packet against PROTOCOL.md, open it when a key log is given, and say what is
// wrong with each malformed one. Exits 1 when any packet was malformed.
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "engine/wire/error.hpp"
#include "tools/commands.hpp"
#include "tools/decode_output.hpp"
#include "tools/decode_report.hpp"
#include "tools/key_log_opener.hpp"
#include "tools/pcap_source.hpp"

namespace replicast::tools {

namespace {

struct DecodeOptions {
    std::string input;
    std::string key_log;
    bool json = false;
    bool hex = false;
    int port = 0;
};

bool parse_hex_line(const std::string& line, std::vector<std::uint8_t>& out, std::string& why) {
    out.clear();
    int hi = -1;
    for (char c : line) {
        if (c == '#') break;  // comment to end of line
        if (c == ' ' || c == '\t' || c == '\r' || c == ':') continue;
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) {
            why = std::string("not a hex digit: '") + c + "'";
            return false;
        }
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0) {
        why = "odd number of hex digits";
        return false;
    }
    return true;
}

int run_hex(const DecodeOptions& o, const PayloadOpener* opener, DecodeOutput& output) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (o.input != "-") {
        file.open(o.input);
        if (!file) {
            throw CLI::RuntimeError("replicast decode: cannot open " + o.input, kExitUsage);
        }
        in = &file;
    }
    std::string line;
    std::uint64_t line_no = 0;
    std::vector<std::uint8_t> datagram;
    while (std::getline(*in, line)) {
        ++line_no;
        std::string why;
        if (!parse_hex_line(line, datagram, why)) {
            throw CLI::RuntimeError("replicast decode: " + o.input + ":" + std::to_string(line_no) + ": " + why,
                                    kExitUsage);
        }
        if (datagram.empty()) continue;  // blank or comment line
        PacketSource src{.number = line_no, .number_label = "line"};
        output.packet(src, analyse_datagram(datagram, opener));
    }
    return output.finish(0);
}

int run_pcap(const DecodeOptions& o, const PayloadOpener* opener, DecodeOutput& output) {
    PcapSource source(o.input);
    CapturedDatagram cap;
    std::uint64_t filtered = 0;
    while (source.next(cap)) {
        if (o.port != 0 && cap.frame_error == wire::FrameError::ok && cap.frame.dst_port != o.port) {
            ++filtered;
            continue;
        }
        PacketSource src{.number = cap.frame_number, .number_label = "frame", .capture = &cap};
        if (cap.frame_error != wire::FrameError::ok) {
            output.frame_fault(src, cap.frame_error);
            continue;
        }
        output.packet(src, analyse_datagram(cap.datagram, opener));
    }
    if (source.cut_short_frames() != 0) {
        std::fprintf(stderr, "replicast decode: %s: %" PRIu64 " frames were cut short by the capture's snap length "
                             "and skipped (capture with -s 0 to check them)\n",
                     o.input.c_str(), source.cut_short_frames());
    }
    return output.finish(source.skipped_frames() + filtered);
}

}  // namespace

void add_decode_command(CLI::App& app) {
    auto opts = std::make_shared<DecodeOptions>();
    CLI::App* cmd = app.add_subcommand("decode",
        "Decode and validate replicast packets from a capture (pcap) or hex datagrams.\n"
        "Exits 1 when any packet is malformed or fails to open, 2 on unreadable input.");
    cmd->add_option("FILE", opts->input, "pcap file, or with --hex a text file of hex datagrams, one per line ('-' = stdin)")
        ->required();
    cmd->add_option("--key-log", opts->key_log, "key log (PROTOCOL.md section 3) to open sealed packets with")
        ->check(CLI::ExistingFile);
    cmd->add_flag("--json", opts->json, "one JSON object per packet, then a summary object");
    cmd->add_flag("--hex", opts->hex, "FILE holds UDP payloads in hex, one datagram per line; '#' starts a comment");
    cmd->add_option("--port", opts->port, "only UDP datagrams to this destination port (pcap input)")
        ->check(CLI::Range(1, 65535));
    cmd->callback([opts] {
        std::unique_ptr<KeyLogOpener> opener;
        if (!opts->key_log.empty()) {
            try {
                opener = std::make_unique<KeyLogOpener>(opts->key_log);
            } catch (const std::runtime_error& e) {
                throw CLI::RuntimeError(std::string("replicast decode: ") + e.what(), kExitUsage);
            }
        }
        auto output = make_decode_output(opts->json);
        const int rc = opts->hex ? run_hex(*opts, opener.get(), *output) : run_pcap(*opts, opener.get(), *output);
        if (rc != kExitOk) {
            throw CLI::RuntimeError(rc);
        }
    });
}

}  // namespace replicast::tools

#include "tools/decode_output.hpp"

#include "engine/wire/frame.hpp"

#include <cinttypes>
#include <cstdio>
#include <string>

#include "engine/wire/error.hpp"
#include "tools/commands.hpp"
#include "tools/json_line.hpp"
#include "tools/pcap_source.hpp"

namespace replicast::tools {

namespace {

std::string mac_text(const std::array<std::uint8_t, 6>& m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

std::string flags_text(std::uint8_t f) {
    std::string s;
    auto add = [&](const char* name) {
        if (!s.empty()) s += '|';
        s += name;
    };
    if (f & wire::flags::kHeartbeat) add("HEARTBEAT");
    if (f & wire::flags::kKeyChange) add("KEYCHANGE");
    if ((f & wire::flags::kOic) == wire::flags::kOic) {
        add("OIC");
    } else {
        if (f & wire::flags::kFic) add("FIC");
        if (f & wire::flags::kLic) add("LIC");
    }
    if (f & wire::flags::kMic) add("MIC");
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", f);
    return s.empty() ? std::string(hex) : s + " (" + hex + ")";
}

class TextOutput final : public DecodeOutput {
    void print_packet(const PacketSource& src, const PacketReport& r) override {
        std::printf("%.*s %" PRIu64 ":", static_cast<int>(src.number_label.size()), src.number_label.data(), src.number);
        if (src.capture != nullptr) {
            const wire::FrameInfo& f = src.capture->frame;
            std::printf(" %s:%u -> %s:%u ttl %u dscp %u%s ip-csum %s udp-csum %s", wire::ipv4_text(f.src_ip).c_str(),
                        f.src_port, wire::ipv4_text(f.dst_ip).c_str(), f.dst_port, f.ttl, f.dscp, f.dont_fragment ? " DF" : "",
                        f.ipv4_checksum_ok ? "ok" : "BAD",
                        !f.udp_checksum_present ? "none" : (f.udp_checksum_ok ? "ok" : "BAD"));
            if (src.capture->has_ethernet) {
                std::printf(" dst-mac %s", mac_text(f.dst_mac).c_str());
                if (f.has_vlan) std::printf(" vlan %u", f.vlan_id);
            }
        }
        std::printf("\n");
        if (r.error != wire::WireError::ok) {
            std::printf("  MALFORMED: %.*s\n", static_cast<int>(wire::describe(r.error).size()), wire::describe(r.error).data());
            return;
        }
        const wire::PacketHeader& h = r.view.header;
        std::printf("  stream %u seq %" PRIu64 " epoch %u %s comp %u payload %u: %.*s\n", h.stream_id, h.packet_seq,
                    h.key_epoch, flags_text(h.flags).c_str(), static_cast<unsigned>(h.comp_alg), h.payload_len,
                    static_cast<int>(describe(r.open).size()), describe(r.open).data());
        if (r.payload_error != wire::WireError::ok) {
            std::printf("  MALFORMED PAYLOAD: %.*s\n", static_cast<int>(wire::describe(r.payload_error).size()),
                        wire::describe(r.payload_error).data());
        }
        if (r.heartbeat) {
            std::printf("  heartbeat last_lsn %" PRIu64 " server_time_ns %" PRIu64 "\n", r.heartbeat->last_lsn,
                        r.heartbeat->server_time_ns);
        }
        if (r.key_change) {
            std::printf("  key change to epoch %u from seq %" PRIu64 "\n", r.key_change->next_epoch, r.key_change->first_seq);
        }
        if (r.chain_head) {
            std::printf("  chain first_lsn %" PRIu64 " updates %u body_len %u\n", r.chain_head->first_lsn,
                        r.chain_head->update_count, r.chain_head->body_len);
        }
    }

    void print_frame_fault(const PacketSource& src, wire::FrameError e) override {
        std::printf("%.*s %" PRIu64 ":\n  MALFORMED FRAME: %.*s\n", static_cast<int>(src.number_label.size()),
                    src.number_label.data(), src.number, static_cast<int>(wire::describe(e).size()), wire::describe(e).data());
    }

    void print_summary(std::uint64_t skipped) override {
        // good + malformed + forged = packets; "not opened" is a part of good
        // (nothing wrong was found, but without a key the payload was not read).
        std::printf("%" PRIu64 " packets: %" PRIu64 " good (%" PRIu64 " of them not opened: no key), %" PRIu64
                    " malformed, %" PRIu64 " forged or corrupted; %" PRIu64 " other frames skipped\n",
                    packets_, good_, unopened_, malformed_, forged_, skipped);
    }
};

class JsonOutput final : public DecodeOutput {
    void print_packet(const PacketSource& src, const PacketReport& r) override {
        Json j;
        j[std::string(src.number_label)] = src.number;
        if (src.capture != nullptr) {
            const wire::FrameInfo& f = src.capture->frame;
            j["src"] = wire::ipv4_text(f.src_ip);
            j["dst"] = wire::ipv4_text(f.dst_ip);
            j["src_port"] = f.src_port;
            j["dst_port"] = f.dst_port;
            j["ttl"] = f.ttl;
            j["dscp"] = f.dscp;
            j["df"] = f.dont_fragment;
            j["ipv4_checksum_ok"] = f.ipv4_checksum_ok;
            j["udp_checksum_ok"] = f.udp_checksum_ok;
            j["timestamp_ns"] = src.capture->timestamp_ns;
            if (src.capture->has_ethernet) {
                j["dst_mac"] = mac_text(f.dst_mac);
                if (f.has_vlan) j["vlan"] = f.vlan_id;
            }
        }
        j["valid"] = r.good();
        if (r.error != wire::WireError::ok) {
            j["error"] = wire::error_name(r.error);
            j["reason"] = wire::describe(r.error);
        } else {
            const wire::PacketHeader& h = r.view.header;
            j["stream_id"] = h.stream_id;
            j["packet_seq"] = h.packet_seq;
            j["key_epoch"] = h.key_epoch;
            j["flags"] = h.flags;
            j["comp_alg"] = static_cast<unsigned>(h.comp_alg);
            j["payload_len"] = h.payload_len;
            j["open"] = describe(r.open);
            if (r.payload_error != wire::WireError::ok) {
                j["error"] = wire::error_name(r.payload_error);
                j["reason"] = wire::describe(r.payload_error);
            }
            if (r.heartbeat) {
                j["heartbeat"] = {{"last_lsn", r.heartbeat->last_lsn}, {"server_time_ns", r.heartbeat->server_time_ns}};
            }
            if (r.key_change) {
                j["key_change"] = {{"next_epoch", r.key_change->next_epoch}, {"first_seq", r.key_change->first_seq}};
            }
            if (r.chain_head) {
                j["chain"] = {{"first_lsn", r.chain_head->first_lsn},
                              {"update_count", r.chain_head->update_count},
                              {"body_len", r.chain_head->body_len}};
            }
        }
        print_json_line(j);
    }

    void print_frame_fault(const PacketSource& src, wire::FrameError e) override {
        Json j;
        j[std::string(src.number_label)] = src.number;
        j["valid"] = false;
        j["error"] = "frame";
        j["reason"] = wire::describe(e);
        print_json_line(j);
    }

    void print_summary(std::uint64_t skipped) override {
        Json summary;
        summary["packets"] = packets_;
        summary["good"] = good_;
        summary["malformed"] = malformed_;
        summary["forged"] = forged_;
        summary["not_opened"] = unopened_;
        summary["skipped_frames"] = skipped;
        print_json_line(Json{{"summary", summary}});
    }
};

}  // namespace

void DecodeOutput::packet(const PacketSource& src, const PacketReport& report) {
    ++packets_;
    if (report.error != wire::WireError::ok || report.payload_error != wire::WireError::ok) {
        ++malformed_;
    } else if (report.open == OpenState::tag_mismatch) {
        ++forged_;
    } else {
        ++good_;
        if (report.open == OpenState::no_key) ++unopened_;
    }
    print_packet(src, report);
}

void DecodeOutput::frame_fault(const PacketSource& src, wire::FrameError error) {
    ++packets_;
    ++malformed_;
    print_frame_fault(src, error);
}

int DecodeOutput::finish(std::uint64_t skipped_frames) {
    print_summary(skipped_frames);
    std::fflush(stdout);
    return (malformed_ + forged_) == 0 ? kExitOk : kExitFindings;
}

std::unique_ptr<DecodeOutput> make_decode_output(bool json) {
    if (json) return std::make_unique<JsonOutput>();
    return std::make_unique<TextOutput>();
}

}  // namespace replicast::tools

// raw_call: makes gRPC calls whose request is arbitrary bytes (gRPC's generic
// stub, no protobuf on this side), over the same mutual TLS as every client,
// so that an end-to-end test can send the control service requests that are
// not its messages: bytes that do not parse, over-size ones. Python has no
// gRPC package here, hence this small helper (a test tool, not a product).
//
//   raw_call TARGET SERVER_NAME CERT KEY CA METHOD (hex:HEX | size:N) COUNT
//
// Makes COUNT calls of METHOD (e.g. /replicast.v1.Replicast/Keys) one after
// the other on one channel, each with a 10 s deadline, and prints one JSON
// line per call: {"code": N, "message": "..."} (N: the gRPC status code).
// size:N sends N bytes of 0xff (never a valid protobuf tag sequence).
// Exit 0 when every call got an answer, 2 on bad arguments.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "engine/control/tls.hpp"

namespace {

std::string unhex(const std::string& h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 9) {
        std::fprintf(stderr, "usage: raw_call TARGET SERVER_NAME CERT KEY CA METHOD (hex:HEX|size:N) COUNT\n");
        return 2;
    }
    using namespace replicast::control;
    const std::string target = argv[1], name = argv[2], method = argv[6], body = argv[7];
    const long count = std::strtol(argv[8], nullptr, 10);
    std::string payload;
    if (body.rfind("hex:", 0) == 0) {
        payload = unhex(body.substr(4));
    } else if (body.rfind("size:", 0) == 0) {
        payload.assign(static_cast<std::size_t>(std::strtoul(body.c_str() + 5, nullptr, 10)), '\xff');
    } else {
        std::fprintf(stderr, "raw_call: the body must be hex:HEX or size:N\n");
        return 2;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(name);
    args.SetMaxSendMessageSize(-1);
    auto channel = grpc::CreateCustomChannel(
        target, client_credentials(read_pem(argv[3], "certificate"), read_pem(argv[4], "key"), read_pem(argv[5], "ca")),
        args);
    grpc::GenericStub stub(channel);
    for (long i = 0; i < count; ++i) {
        grpc::Slice slice(payload);
        grpc::ByteBuffer request(&slice, 1), reply;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
        grpc::Status status;
        stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
            std::lock_guard lock(mu);
            status = std::move(s);
            done = true;
            cv.notify_all();
        });
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done; });
        std::printf("%s\n", nlohmann::json{{"code", static_cast<int>(status.error_code())},
                                           {"message", status.error_message()}}.dump().c_str());
    }
    return 0;
}

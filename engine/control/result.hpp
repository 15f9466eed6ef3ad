// The outcome of a control-plane operation, with gRPC's canonical codes (the
// same numbers as grpc::StatusCode, so a Result and a grpc::Status convert
// one to one) and a message that says what was wrong. Whether a retry is safe
// follows the code (STYLE practice 6): UNAVAILABLE and RESOURCE_EXHAUSTED are
// retried with a backoff, OUT_OF_RANGE calls for a snapshot, the others are
// final for that request.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace replicast::control {

enum class Code : int {
    ok = 0,
    cancelled = 1,
    unknown = 2,
    invalid_argument = 3,
    deadline_exceeded = 4,
    not_found = 5,
    already_exists = 6,
    permission_denied = 7,
    resource_exhausted = 8,
    failed_precondition = 9,
    aborted = 10,
    out_of_range = 11,
    unimplemented = 12,
    internal = 13,
    unavailable = 14,
    data_loss = 15,
    unauthenticated = 16,
};

/// "PERMISSION_DENIED", "OUT_OF_RANGE", ...: the names gRPC prints.
[[nodiscard]] std::string_view code_name(Code c) noexcept;

class Result {
public:
    Result() = default;
    Result(Code code, std::string message) : code_(code), message_(std::move(message)) {}
    static Result ok() { return {}; }

    [[nodiscard]] bool is_ok() const noexcept { return code_ == Code::ok; }
    explicit operator bool() const noexcept { return is_ok(); }
    [[nodiscard]] Code code() const noexcept { return code_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    /// "CODE: message", for logs and the CLI.
    [[nodiscard]] std::string text() const;

private:
    Code code_ = Code::ok;
    std::string message_;
};

/// A control endpoint that cannot start (certificates, access list, address)
/// or a client that cannot be built (unreadable PEM files): thrown at setup only.
class ControlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace replicast::control

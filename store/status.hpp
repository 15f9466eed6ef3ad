// Results of store operations. Codes follow LMDB's style: 0 is success,
// positive values are errno, LMDB's own codes are kept (-30799..), and the
// store's own live in their own range below LMDB's. Every failure carries a
// message that names the store path and the reason; nothing in the write path
// throws. (STYLE practice 6.)
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace replicast::store {

enum StoreCode : int {
    kOk = 0,
    kFirstStoreCode = -31000,
    kNoSuchDatabase = kFirstStoreCode,  // a read of a database the store does not have
    kBadName,                           // database names: 1..200 bytes, not starting with '_'
    kBadUpdate,                         // an op the wire format cannot carry (key length, value size, delete with value)
    kLsnGap,                            // a replica was given LSNs past applied + 1
    kWrongStore,                        // a replica of another master (store UUID differs): rebuild
    kIncomplete,                        // a replica whose snapshot bootstrap did not finish
    kWrongKind,                         // a master opened as a replica, or the other way round
    kCorrupt,                           // a record that does not decode: never written by us
    kBadRequestId,                      // write_once: a request id longer than kMaxRequestId bytes
    kNoHandleYet,                       // Env::dbi: end the transaction and run it again (Env handles it)
};

class Status {
public:
    Status() = default;
    Status(int code, std::string message) : code_(code), message_(std::move(message)) {}
    static Status ok() { return {}; }

    [[nodiscard]] bool is_ok() const noexcept { return code_ == kOk; }
    explicit operator bool() const noexcept { return is_ok(); }
    [[nodiscard]] int code() const noexcept { return code_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    int code_ = kOk;
    std::string message_;
};

/// Text of a StoreCode ("no such database").
const char* store_code_text(int code) noexcept;

/// "PATH: what: reason" for an LMDB, errno or store code.
Status lmdb_status(int rc, const std::string& path, const std::string& what);

/// Thrown only by constructors (opening a store), with the same text as Status.
class StoreError : public std::runtime_error {
public:
    explicit StoreError(const Status& s) : std::runtime_error(s.message()), code_(s.code()) {}
    [[nodiscard]] int code() const noexcept { return code_; }

private:
    int code_;
};

}  // namespace replicast::store

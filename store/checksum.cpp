#include "store/checksum.hpp"

#include <openssl/evp.h>

#include <new>

#include "engine/wire/endian.hpp"

namespace replicast::store {

RecordDigest::RecordDigest() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

void RecordDigest::add(const Record& r) {
    std::uint8_t len[4];
    wire::store_be<std::uint32_t>(len, static_cast<std::uint32_t>(r.key.size()));
    EVP_DigestUpdate(ctx_.get(), len, 4);
    EVP_DigestUpdate(ctx_.get(), r.key.data(), r.key.size());
    std::uint8_t group[2];
    wire::store_be<std::uint16_t>(group, r.group);
    EVP_DigestUpdate(ctx_.get(), group, 2);
    wire::store_be<std::uint32_t>(len, static_cast<std::uint32_t>(r.value.size()));
    EVP_DigestUpdate(ctx_.get(), len, 4);
    if (!r.value.empty()) EVP_DigestUpdate(ctx_.get(), r.value.data(), r.value.size());
}

std::string RecordDigest::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
        s += digits[md[i] >> 4];
        s += digits[md[i] & 15];
    }
    return s;
}

std::string Checksum::line(std::string_view db) const {
    return "db=" + std::string(db) + " records=" + std::to_string(records) + " lsn=" + std::to_string(lsn) +
           " sha256=" + sha256;
}

Status checksum(MasterStore& master, std::string_view db, const GroupFilter& groups, Checksum& out) {
    RecordDigest d;
    out = {};
    const Status s = master.snapshot(
        db, [&](std::uint64_t lsn) { out.lsn = lsn; },
        [&](const Record& r) {
            if (groups.allows(r.group)) {
                d.add(r);
                ++out.records;
            }
            return true;
        });
    if (s) out.sha256 = d.hex();
    return s;
}

Status checksum(ReplicaStore& replica, std::string_view db, Checksum& out) {
    RecordDigest d;
    out = {};
    const Status s = replica.scan(db, out.lsn, [&](const Record& r) {
        d.add(r);
        ++out.records;
        return true;
    });
    if (s) out.sha256 = d.hex();
    return s;
}

}  // namespace replicast::store

// Helpers for store tests: temporary directories, building updates, and the
// consistency check every crash and concurrency test ends with.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/wire/update.hpp"
#include "store/master.hpp"

namespace replicast::testing {

class TempDir {
public:
    explicit TempDir(const std::string& tag) {
        path_ = std::filesystem::temp_directory_path() / ("rc-" + tag + "-" + std::to_string(::getpid()) + "-" +
                                                          std::to_string(counter()++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] std::string str() const { return path_.string(); }
    [[nodiscard]] std::string sub(const std::string& name) const { return (path_ / name).string(); }

private:
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::filesystem::path path_;
};

/// Stores for tests: no fsync (durability is LMDB's, tested by the crash tests).
inline store::EnvOptions fast() {
    store::EnvOptions o;
    o.durability = store::Durability::nosync;
    return o;
}

/// Owns the bytes behind UpdateViews built from strings.
struct Ops {
    std::vector<std::string> keys, values;
    std::vector<wire::UpdateView> views;

    Ops& put(std::string key, std::string value, std::uint16_t group = 0) {
        keys.push_back(std::move(key));
        values.push_back(std::move(value));
        pending.push_back({wire::Op::put, group});
        return *this;
    }
    Ops& del(std::string key, std::uint16_t group = 0) {
        keys.push_back(std::move(key));
        values.emplace_back();
        pending.push_back({wire::Op::del, group});
        return *this;
    }
    std::span<const wire::UpdateView> span() {
        views.clear();
        for (std::size_t i = 0; i < keys.size(); ++i) {
            views.push_back({.op = pending[i].first, .reader_group = pending[i].second,
                             .key = {reinterpret_cast<const std::uint8_t*>(keys[i].data()), keys[i].size()},
                             .value = {reinterpret_cast<const std::uint8_t*>(values[i].data()), values[i].size()}});
        }
        return views;
    }

private:
    std::vector<std::pair<wire::Op, std::uint16_t>> pending;
};

using Table = std::map<std::string, std::pair<std::uint16_t, std::string>>;

/// Replays the log [1, upto] of `db` into a table.
inline Table replay_log(store::MasterStore& m, const std::string& db, std::uint64_t upto, std::uint64_t* count = nullptr,
                        bool* contiguous = nullptr) {
    Table t;
    std::uint64_t expect = 1, n = 0;
    bool ok = true;
    const store::Status s = m.read_log(db, 1, upto, [&](std::uint64_t lsn, std::span<const std::uint8_t> enc) {
        if (lsn != expect) ok = false;
        expect = lsn + 1;
        wire::UpdateView u;
        std::size_t used = 0;
        if (wire::parse_update(enc, u, used) != wire::WireError::ok || used != enc.size()) ok = false;
        const std::string key(u.key.begin(), u.key.end());
        if (u.op == wire::Op::put) {
            t[key] = {u.reader_group, std::string(u.value.begin(), u.value.end())};
        } else {
            t.erase(key);
        }
        ++n;
        return true;
    });
    EXPECT_TRUE(s) << s.message();
    if (count) *count = n;
    if (contiguous) *contiguous = ok;
    return t;
}

inline Table table_of(store::MasterStore& m, const std::string& db, std::uint64_t* lsn = nullptr) {
    Table t;
    const store::Status s = m.snapshot(db, [&](std::uint64_t l) { if (lsn) *lsn = l; }, [&](const store::Record& r) {
        t[std::string(r.key.begin(), r.key.end())] = {r.group, std::string(r.value.begin(), r.value.end())};
        return true;
    });
    EXPECT_TRUE(s) << s.message();
    return t;
}

/// The store invariant: LSNs 1..last have no gaps, and the data is exactly the
/// log replayed: every logged LSN's effect is there, and nothing else.
inline void expect_consistent(store::MasterStore& m, const std::string& db) {
    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(m.lsn_range(db, oldest, last));
    ASSERT_EQ(oldest, 1u) << "these tests do not trim";
    std::uint64_t count = 0;
    bool contiguous = false;
    const Table from_log = replay_log(m, db, last, &count, &contiguous);
    EXPECT_TRUE(contiguous) << "LSNs have a gap";
    EXPECT_EQ(count, last) << "log entries missing";
    std::uint64_t snap_lsn = 0;
    EXPECT_EQ(table_of(m, db, &snap_lsn), from_log) << "data and log disagree";
    EXPECT_EQ(snap_lsn, last);
}

}  // namespace replicast::testing

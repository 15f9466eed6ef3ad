// Named-database handles across threads and aborted writes (store/env.hpp).
// LMDB closes the handles a transaction opened when it aborts, makes a handle
// usable only by transactions that begin after the one that opened it ended,
// and forbids opening handles in two live transactions at once (its slot table
// is shared: both take the same slot, and the abort of one frees the other's
// name). The Env must never let another transaction see such a handle. Each
// test runs a write and a read on two threads with the write's transaction
// held open at the moment that used to go wrong; a thread that waits for the
// other does so with a bounded timeout, because the fixed Env makes the other
// wait instead (that is the point).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "store/env.hpp"
#include "store/meta.hpp"
#include "store_test_util.hpp"

namespace replicast::store {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr auto kHold = 300ms;  // how long a transaction stays open waiting for the other thread

int put(MDB_txn* txn, MDB_dbi dbi, const std::string& key, const std::string& value) {
    MDB_val k = as_val(key), v = as_val(value);
    return mdb_put(txn, dbi, &k, &v, 0);
}

/// Reads `key` of `db` in one read transaction: 0 and the value, or the first error (the handle's or the get's).
int read_key(Env& env, const std::string& db, const std::string& key, std::string& value) {
    int result = 0;
    const Status s = env.read("test read", [&](MDB_txn* txn) {
        MDB_dbi dbi;
        result = env.dbi(txn, db, false, dbi);
        if (result != 0) return result;
        MDB_val k = as_val(key), v{};
        result = mdb_get(txn, dbi, &k, &v);
        if (result == 0) value.assign(static_cast<const char*>(v.mv_data), v.mv_size);
        return 0;
    });
    return s ? result : s.code();
}

Status write_key(Env& env, const std::string& db, const std::string& key, const std::string& value) {
    return env.write("test write", [&](MDB_txn* txn) {
        MDB_dbi dbi;
        RC_TRY(env.dbi(txn, db, true, dbi));
        return put(txn, dbi, key, value);
    });
}

/// A write on its own thread that creates `db`, signals `opened`, holds its
/// transaction until `release` (at most kHold), and aborts (as a full disk
/// aborts a commit).
std::thread aborted_creating_write(Env& env, const std::string& db, std::promise<void>& opened,
                                   std::shared_future<void> release, Status& result) {
    return std::thread([&env, db, &opened, release, &result] {
        bool signalled = false;
        result = env.write("doomed write", [&](MDB_txn* txn) {
            MDB_dbi dbi;
            RC_TRY(env.dbi(txn, db, true, dbi));
            RC_TRY(put(txn, dbi, "k", "doomed"));
            if (!signalled) {
                signalled = true;
                opened.set_value();
                (void)release.wait_for(kHold);
            }
            return EIO;
        });
    });
}

// A reader on another thread must not be handed the handle of a database that
// a write in flight created: it does not exist for the reader (and the write
// aborts). The old cache published the handle at once: EINVAL.
TEST(EnvHandles, AReaderNeverSeesAHandleOfAWriteInFlight) {
    TempDir dir("dbi-inflight");
    Env env(dir.str(), testing::fast());
    std::promise<void> opened, read_done;
    Status write_result;
    std::thread writer = aborted_creating_write(env, "fresh", opened, read_done.get_future().share(), write_result);
    ASSERT_EQ(opened.get_future().wait_for(5s), std::future_status::ready);
    std::string value;
    const int rc = read_key(env, "fresh", "k", value);
    read_done.set_value();
    writer.join();
    EXPECT_EQ(rc, MDB_NOTFOUND) << mdb_strerror(rc);
    EXPECT_EQ(write_result.code(), EIO) << write_result.message();
    EXPECT_EQ(read_key(env, "fresh", "k", value), MDB_NOTFOUND) << "the aborted write left its database behind";
    ASSERT_TRUE(write_key(env, "fresh", "k", "kept")) << "the name is free for a write that commits";
    EXPECT_EQ(read_key(env, "fresh", "k", value), 0);
    EXPECT_EQ(value, "kept");
}

// The failure seen on the master with a full disk: a reader opens an existing
// database's handle while a write that created another is in flight. LMDB
// gives both the same slot; the write's abort then frees the reader's name, and
// every later use of the reader's cached handle fails with EINVAL (or, once the
// slot is reused, reads another database). The handle must keep working, and
// the two databases must stay apart.
TEST(EnvHandles, AnAbortedCreatingWriteDoesNotCloseAHandleAReaderOpened) {
    TempDir dir("dbi-abort");
    {
        Env first(dir.str(), testing::fast());
        ASSERT_TRUE(write_key(first, "other", "k", "other's"));
    }
    Env env(dir.str(), testing::fast());  // a new process's view: no handle opened yet
    std::promise<void> opened, read_done;
    Status write_result;
    std::thread writer = aborted_creating_write(env, "fresh", opened, read_done.get_future().share(), write_result);
    ASSERT_EQ(opened.get_future().wait_for(5s), std::future_status::ready);
    std::string value;
    const int during = read_key(env, "other", "k", value);
    read_done.set_value();
    writer.join();
    EXPECT_EQ(during, 0) << mdb_strerror(during);
    EXPECT_EQ(write_result.code(), EIO) << write_result.message();

    value.clear();
    const int after = read_key(env, "other", "k", value);
    EXPECT_EQ(after, 0) << "the reader's handle died with the aborted write: " << mdb_strerror(after);
    EXPECT_EQ(value, "other's");
    ASSERT_TRUE(write_key(env, "fresh", "k2", "fresh's"));
    EXPECT_EQ(read_key(env, "other", "k2", value), MDB_NOTFOUND) << "two names share one handle";
    EXPECT_EQ(read_key(env, "fresh", "k2", value), 0);
    EXPECT_EQ(value, "fresh's");
    EXPECT_EQ(read_key(env, "other", "k", value), 0);
    EXPECT_EQ(value, "other's");
}

// A read transaction that began before another thread created a database must
// not be handed that database's new handle (LMDB: EINVAL in a transaction that
// began before the handle was opened); it sees the database as absent, as its
// snapshot has it, and the next transaction sees it.
TEST(EnvHandles, AReadThatBeganBeforeADatabaseWasCreatedSeesItAbsent) {
    TempDir dir("dbi-older");
    Env env(dir.str(), testing::fast());
    ASSERT_TRUE(write_key(env, "seen", "k", "v"));  // the reader has something to do first
    std::promise<void> started, committed;
    std::shared_future<void> commit = committed.get_future().share();
    int during = -1;
    std::thread reader([&] {
        bool signalled = false;
        const Status s = env.read("long read", [&](MDB_txn* txn) {
            MDB_dbi seen;
            RC_TRY(env.dbi(txn, "seen", false, seen));
            if (!signalled) {
                signalled = true;
                started.set_value();
                (void)commit.wait_for(kHold);
            }
            MDB_dbi fresh;
            during = env.dbi(txn, "fresh", false, fresh);
            if (during != 0) return during == MDB_NOTFOUND ? 0 : during;
            MDB_val k = as_val(std::string_view("k")), v{};
            during = mdb_get(txn, fresh, &k, &v);
            return 0;
        });
        if (!s) during = s.code();
    });
    ASSERT_EQ(started.get_future().wait_for(5s), std::future_status::ready);
    const Status w = write_key(env, "fresh", "k", "new");
    committed.set_value();
    reader.join();
    ASSERT_TRUE(w) << w.message();
    EXPECT_EQ(during, MDB_NOTFOUND) << "the older read got " << mdb_strerror(during);
    std::string value;
    EXPECT_EQ(read_key(env, "fresh", "k", value), 0);
    EXPECT_EQ(value, "new");
}

}  // namespace
}  // namespace replicast::store

// The store against real processes: writers killed with SIGKILL at random
// points, two writers and a snapshot reader at once, and a full disk.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "store/checksum.hpp"
#include "store/master.hpp"
#include "store_test_util.hpp"

namespace replicast::store {
namespace {

using replicast::testing::TempDir;

const char* writer_path() {
    const char* p = std::getenv("REPLICAST_STORE_WRITER");
    return p != nullptr ? p : "store_writer";
}

// A child process whose stdout we read line by line.
class Child {
public:
    explicit Child(const std::vector<std::string>& args) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            std::vector<char*> argv;
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        fd_ = fds[0];
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            reap();
        }
        if (fd_ >= 0) ::close(fd_);
    }

    /// Waits (bounded) for the next progress line; returns false at EOF or timeout.
    bool next_lsn(std::uint64_t& lsn, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        for (;;) {
            if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
                lsn = std::stoull(buf_.substr(0, nl));
                buf_.erase(0, nl + 1);
                return true;
            }
            pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
            if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
            char tmp[4096];
            const ssize_t n = ::read(fd_, tmp, sizeof tmp);
            if (n <= 0) return false;
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }

    void kill_now() { ::kill(pid_, SIGKILL); }
    int reap() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::string buf_;
};

TEST(StoreProcesses, SurvivesFiftySigkills) {
    TempDir dir("crash");
    std::mt19937_64 rng(20261125);
    std::uint64_t committed = 0;
    int kills = 0;
    for (int round = 0; round < 50; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string batch = std::to_string(1 + rng() % 40);
        Child writer({writer_path(), dir.str(), "db", "100000", batch, std::to_string(round), round % 10 == 0 ? "full" : "nosync"});
        // Kill at a random point: sometimes before the first commit, mostly after a few.
        const int wait_for = static_cast<int>(rng() % 12);
        std::uint64_t lsn = 0;
        for (int i = 0; i < wait_for; ++i) {
            ASSERT_TRUE(writer.next_lsn(lsn)) << "the writer stopped making progress";
            committed = std::max(committed, lsn);
        }
        writer.kill_now();
        const int status = writer.reap();
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
        ++kills;

        MasterStore m(dir.str(), EnvOptions{.durability = Durability::nosync});
        if (committed == 0) continue;
        std::uint64_t oldest = 0, last = 0;
        ASSERT_TRUE(m.lsn_range("db", oldest, last));
        EXPECT_GE(last, committed) << "a commit the writer reported is gone";
        testing::expect_consistent(m, "db");
    }
    EXPECT_EQ(kills, 50);
    EXPECT_GT(committed, 100u);
}

TEST(StoreProcesses, TwoWritersAndASnapshotReader) {
    TempDir dir("concurrent");
    { MasterStore init(dir.str(), EnvOptions{.durability = Durability::nosync}); }
    Child a({writer_path(), dir.str(), "shared", "300", "20", "1", "nosync"});
    Child b({writer_path(), dir.str(), "shared", "300", "20", "2", "nosync"});
    std::uint64_t lsn = 0;
    ASSERT_TRUE(a.next_lsn(lsn));
    ASSERT_TRUE(b.next_lsn(lsn));
    MasterStore m(dir.str(), EnvOptions{.durability = Durability::nosync});
    // Snapshots while both write: each must equal the log replayed to its LSN.
    int snapshots = 0;
    for (int i = 0; i < 5; ++i) {
        std::uint64_t snap_lsn = 0;
        const auto table = testing::table_of(m, "shared", &snap_lsn);
        Checksum during;
        ASSERT_TRUE(checksum(m, "shared", {}, during));
        ASSERT_GT(snap_lsn, 0u);
        // Let the writers advance before the next snapshot.
        ASSERT_TRUE(a.next_lsn(lsn));
        ASSERT_TRUE(b.next_lsn(lsn));
        EXPECT_EQ(testing::replay_log(m, "shared", snap_lsn), table) << "snapshot at LSN " << snap_lsn;
        ++snapshots;
    }
    while (a.next_lsn(lsn)) {}
    while (b.next_lsn(lsn)) {}
    EXPECT_EQ(a.reap(), 0);
    EXPECT_EQ(b.reap(), 0);
    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(m.lsn_range("shared", oldest, last));
    EXPECT_EQ(last, 2u * 300 * 20) << "every write of both processes, each with its own LSNs";
    testing::expect_consistent(m, "shared");
    EXPECT_EQ(snapshots, 5);
}

TEST(StoreProcesses, AFullDiskIsAClearErrorAndLosesNothing) {
    TempDir dir("diskfull");
    const std::string mnt = dir.sub("small");
    std::filesystem::create_directories(mnt);
    ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=3m"), 0)
        << "cannot mount a 3 MiB tmpfs at " << mnt << " (this test needs root): " << std::strerror(errno);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{mnt};
    const std::string store = mnt + "/store";
    std::uint64_t committed = 0;
    {
        Child writer({writer_path(), store, "db", "100000", "10", "7", "full"});
        std::uint64_t lsn = 0;
        while (writer.next_lsn(lsn)) committed = lsn;
        const int status = writer.reap();
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 1) << "the writer must stop with an error when the disk is full";
    }
    // (The writer printed the same message on stderr, into the test log.)
    ASSERT_GT(committed, 0u);
    // The writer's message names the path and the reason (checked through the store API here).
    MasterStore m(store, EnvOptions{.durability = Durability::nosync, .create = false});
    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_GE(last, committed) << "a committed write was lost";
    testing::expect_consistent(m, "db");
    // One more write fails cleanly, naming the path and the full disk.
    std::string big(200000, 'x');
    const wire::UpdateView u{.op = wire::Op::put, .reader_group = 0,
                             .key = {reinterpret_cast<const std::uint8_t*>("k"), 1},
                             .value = {reinterpret_cast<const std::uint8_t*>(big.data()), big.size()}};
    Status s;
    for (int i = 0; i < 50 && s.is_ok(); ++i) s = m.write("db", std::span(&u, 1));
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find(store), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("filesystem holding the store is full"), std::string::npos) << s.message();
    testing::expect_consistent(m, "db");
}

}  // namespace
}  // namespace replicast::store

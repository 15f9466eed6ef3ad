// The daemon's statistics socket: one document per connection, answered by
// the loop that owns the state; an idle loop is woken by the watcher rather
// than answering at its next timeout.
#include "engine/client/stats_socket.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace replicast::client {
namespace {

std::filesystem::path scratch_dir() {
    return std::filesystem::temp_directory_path() / ("replicast-stats-test-" + std::to_string(::getpid()));
}

std::string scratch_path(const char* name) {
    std::filesystem::create_directories(scratch_dir());
    return (scratch_dir() / name).string();
}

class ScratchCleanup : public ::testing::Environment {
    void TearDown() override { std::filesystem::remove_all(scratch_dir()); }
};
const auto* const cleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

/// A loop shaped like the daemon's: it sleeps until nudged (or a long
/// timeout), then answers the socket. It counts the passes that began with a
/// nudge and those that began with the timeout.
class IdleLoop {
public:
    explicit IdleLoop(const std::string& path)
        : server_(std::make_unique<StatsServer>(path, [this] { nudge(); })), thread_([this] { run(); }) {}
    ~IdleLoop() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
        server_.reset();  // its watcher may still nudge: before the mutex and condition go
    }
    int nudged_passes() const { return nudged_.load(); }
    int timed_out_passes() const { return timed_out_.load(); }

private:
    void nudge() {
        {
            std::lock_guard lock(mutex_);
            woken_ = true;
        }
        cv_.notify_all();
    }
    void run() {
        std::unique_lock lock(mutex_);
        while (!stop_) {
            // Far longer than any test waits: an answer that comes must have come from a nudge.
            const bool woken = cv_.wait_for(lock, std::chrono::seconds(60), [this] { return woken_ || stop_; });
            if (stop_) return;
            ++(woken ? nudged_ : timed_out_);
            woken_ = false;
            lock.unlock();
            server_->poll([] { return std::string(R"({"ok":true})"); });
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    bool woken_ = false;
    bool stop_ = false;
    std::atomic<int> nudged_{0};
    std::atomic<int> timed_out_{0};
    std::unique_ptr<StatsServer> server_;
    std::thread thread_;
};

TEST(StatsSocket, IdleLoopIsWokenToAnswer) {
    const std::string path = scratch_path("idle.sock");
    IdleLoop loop(path);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(query_stats(path), "{\"ok\":true}\n");
    EXPECT_GE(loop.nudged_passes(), 1);
    EXPECT_EQ(loop.timed_out_passes(), 0);
}

TEST(StatsSocket, ManyReadersAtOnceAreAllAnswered) {
    const std::string path = scratch_path("many.sock");
    IdleLoop loop(path);
    std::vector<std::future<std::string>> readers;
    for (int i = 0; i < 40; ++i) readers.push_back(std::async(std::launch::async, [&] { return query_stats(path); }));
    for (auto& r : readers) EXPECT_EQ(r.get(), "{\"ok\":true}\n");  // more than one pass answers (16 per pass)
    EXPECT_EQ(loop.timed_out_passes(), 0);
}

TEST(StatsSocket, WithoutWatcherTheOwnerPolls) {
    const std::string path = scratch_path("plain.sock");
    StatsServer server(path);
    auto reader = std::async(std::launch::async, [&] { return query_stats(path); });
    std::size_t answered = 0;
    for (int i = 0; i < 5000 && answered == 0; ++i) {  // bounded: 5 s of 1 ms passes
        answered = server.poll([] { return std::string("{}"); });
        if (answered == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(answered, 1u);
    EXPECT_EQ(reader.get(), "{}\n");
}

TEST(StatsSocket, SocketIsGroupOnlyAndRemovedWithTheServer) {
    const std::string path = scratch_path("mode.sock");
    {
        StatsServer server(path, [] {});
        struct stat st {};
        ASSERT_EQ(::lstat(path.c_str(), &st), 0);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 0777, 0660u);
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StatsSocket, StaleSocketIsReplacedButAFileIsNot) {
    // A daemon killed with SIGKILL leaves its bound socket file behind.
    const std::string path = scratch_path("stale.sock");
    const int left = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    ASSERT_EQ(::bind(left, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    ::close(left);
    ASSERT_TRUE(std::filesystem::exists(path));
    {
        IdleLoop loop(path);
        EXPECT_EQ(query_stats(path), "{\"ok\":true}\n");
    }

    const std::string file = scratch_path("not-a-socket");
    std::ofstream(file) << "precious";
    try {
        StatsServer s(file);
        FAIL() << "bound over a regular file";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
    std::string content;
    std::getline(std::ifstream(file), content);
    EXPECT_EQ(content, "precious");
}

TEST(StatsSocket, QueryOfAMissingSocketNamesThePath) {
    const std::string path = scratch_path("absent.sock");
    try {
        (void)query_stats(path);
        FAIL() << "connected to nothing";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace replicast::client

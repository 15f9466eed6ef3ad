#include "tools/dpdk_exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "tools/commands.hpp"

extern char** environ;

namespace replicast::tools {

std::string dpdk_executable_path() {
    std::vector<char> self(PATH_MAX + 1);
    const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
    if (n <= 0) {
        throw std::runtime_error(std::string("cannot read /proc/self/exe: ") + std::strerror(errno));
    }
    std::string path(self.data(), static_cast<std::size_t>(n));
    const std::size_t slash = path.rfind('/');
    path.resize(slash == std::string::npos ? 0 : slash + 1);
    return path + kDpdkExecutable;
}

bool is_dpdk_command(int argc, char** argv) noexcept {
    if (argc < 2) return false;
    const std::string_view first = argv[1];
    if (first == "server") return true;
    return first == "bench" && argc >= 3 && (std::string_view(argv[2]) == "tx" || std::string_view(argv[2]) == "pace");
}

int exec_dpdk(int argc, char** argv) {
    std::string path;
    try {
        path = dpdk_executable_path();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "replicast: %s\n", e.what());
        return kExitUsage;
    }
    std::vector<char*> args;
    args.reserve(static_cast<std::size_t>(argc) + 1);
    args.push_back(path.data());
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    execv(path.c_str(), args.data());
    const int err = errno;  // execv returned: it failed
    const std::string command = std::string_view(argv[1]) == "server" ? "server" : "bench " + std::string(argv[2]);
    if (err == ENOENT) {
        std::fprintf(stderr,
                     "replicast: `%s` runs on DPDK, in the executable %s, which is not installed beside this one (%s).\n"
                     "Replica hosts need no DPDK; on a sender host install replicast-dpdk in the same directory, or build it\n"
                     "(ninja -C build tools/replicast-dpdk).\n",
                     command.c_str(), kDpdkExecutable, path.c_str());
    } else {
        std::fprintf(stderr, "replicast: `%s` runs on DPDK, in %s, which cannot be run: %s\n", command.c_str(),
                     path.c_str(), std::strerror(err));
    }
    return kExitUsage;
}

CLI::App* add_dpdk_command_stubs(CLI::App& app) {
    const std::string note = " (runs replicast-dpdk beside this binary; its --help lists the options)";
    app.add_subcommand("server", "Run the multicaster: stream the configured databases of the master store" + note);
    CLI::App* bench = app.add_subcommand("bench", "Measure the data path (pktgen style)");
    bench->require_subcommand(1);
    bench->add_subcommand("tx", "The DPDK sender against seal-only and a kernel sendmmsg sender, same core" + note);
    bench->add_subcommand("pace", "Pacing accuracy: achieved vs requested rate and gap jitter per profile" + note);
    return bench;
}

namespace {

// Closes both ends of a pipe on every path out.
struct Pipe {
    int fd[2] = {-1, -1};
    ~Pipe() {
        for (int f : fd) {
            if (f >= 0) close(f);
        }
    }
};

}  // namespace

DpdkHalfVersion ask_dpdk_version() {
    DpdkHalfVersion v;
    try {
        v.path = dpdk_executable_path();
    } catch (const std::exception& e) {
        v.output = e.what();
        return v;
    }
    struct stat st {};
    if (stat(v.path.c_str(), &st) != 0) {
        v.output = std::strerror(errno);
        return v;
    }
    v.found = true;
    Pipe out;
    if (pipe2(out.fd, O_CLOEXEC) != 0) {
        v.output = std::string("pipe: ") + std::strerror(errno);
        return v;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // Its stdout and stderr both come back: a loader error ("librte_eal.so.23:
    // cannot open shared object file") is the answer a user needs to see.
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDERR_FILENO);
    std::string arg0 = v.path, arg1 = "version";
    char* const argv[] = {arg0.data(), arg1.data(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, v.path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out.fd[1]);
    out.fd[1] = -1;
    if (rc != 0) {
        v.output = std::strerror(rc);
        return v;
    }
    constexpr std::size_t kMaxOutput = 64 * 1024;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool timed_out = false;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        pollfd p{.fd = out.fd[0], .events = POLLIN, .revents = 0};
        const int ready = poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            timed_out = ready == 0;
            if (timed_out) kill(pid, SIGKILL);
            break;
        }
        const ssize_t n = read(out.fd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EOF: the child closed its end (exited)
        if (v.output.size() < kMaxOutput) v.output.append(buf, static_cast<std::size_t>(n));
    }
    // Its output ended; it exits by the same deadline or is killed (a child
    // that closed its stdout and hangs must not hang `version`).
    int status = 0;
    for (;;) {
        const pid_t done = waitpid(pid, &status, timed_out ? 0 : WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) break;
        if (done == 0 && std::chrono::steady_clock::now() >= deadline) {
            timed_out = true;
            kill(pid, SIGKILL);
            continue;  // reap it
        }
        if (done == 0) poll(nullptr, 0, 10);
    }
    if (timed_out) {
        v.output = "no answer within 10 s";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        v.ran = true;
    } else {
        // The first line says why (a missing shared library, most likely).
        const std::string first = v.output.substr(0, v.output.find('\n'));
        v.output = (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status))) +
                   (first.empty() ? "" : ": " + first);
    }
    return v;
}

}  // namespace replicast::tools

#include "tools/control_connection.hpp"

#include "tools/commands.hpp"

namespace replicast::tools {

void add_connection(CLI::App* cmd, Connection& c) {
    cmd->add_option("--server", c.server, "the server's control endpoint, HOST:PORT")->required();
    cmd->add_option("--cert", c.cert, "this host's client certificate (PEM)")->required();
    cmd->add_option("--key", c.key, "its private key (PEM)")->required();
    cmd->add_option("--ca", c.ca, "the CA that signed the server's certificate (PEM)")->required();
    cmd->add_option("--server-name", c.server_name, "the name the server's certificate must carry (default: HOST)");
    cmd->add_option("--deadline-ms", c.deadline_ms, "deadline of a unary call")->check(CLI::Range(1, 3'600'000));
    cmd->add_flag("--json", c.json, "print one JSON object");
}

std::unique_ptr<control::ControlClient> connect(const Connection& c, const char* cmd) {
    try {
        return std::make_unique<control::ControlClient>(
            c.server, control::ClientTls{.certificate = c.cert, .private_key = c.key, .ca = c.ca, .server_name = c.server_name},
            control::ClientOptions{.deadline_ms = c.deadline_ms});
    } catch (const control::ControlError& e) {
        throw CLI::RuntimeError(std::string("replicast ") + cmd + ": " + e.what(), kExitUsage);
    }
}

void check(const control::Result& r, const char* cmd) {
    if (!r) throw CLI::RuntimeError(std::string("replicast ") + cmd + ": " + r.text(), kExitFindings);
}

}  // namespace replicast::tools

// Exceptions to exit codes, the same for both executables. Only main() exits.
#include <cstdio>
#include <exception>
#include <string_view>

#include "tools/commands.hpp"

namespace replicast::tools {

int run_app(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
        // A subcommand's own failure: CLI11 would swallow its message, so print it here.
        if (*e.what() != '\0' && std::string_view(e.what()) != "Runtime error") {
            std::fprintf(stderr, "%s\n", e.what());
        }
        return e.get_exit_code();
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "replicast: %s\n", e.what());
        return kExitUsage;
    }
    return kExitOk;
}

}  // namespace replicast::tools

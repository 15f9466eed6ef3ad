# Shared by the scripts: paths, logging, package check. Sourced, not run.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

say() { printf '%s %s\n' "==>" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Packages of scripts/packages.txt that are not installed.
missing_packages() {
    local pkg
    while read -r pkg; do
        [ -z "$pkg" ] && continue
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$REPO_ROOT/scripts/packages.txt")
}

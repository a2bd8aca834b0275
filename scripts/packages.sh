# Sourced by scripts/setup.sh and scripts/test.sh: reads scripts/packages.txt, the one list of the Debian
# packages the project needs and the programs it runs from each.
PACKAGES_FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/packages.txt"

# package_rows [GROUP...]: "PACKAGE GROUP PROGRAMS" for every package (of the given groups), comments dropped.
package_rows() {
  local want=" $* "
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PACKAGES_FILE" | while read -r pkg group programs _; do
    [[ $# -eq 0 || $want == *" $group "* ]] && echo "$pkg $group ${programs:--}"
  done
}

# missing_programs [GROUP...]: "PROGRAM PACKAGE" for each listed program not on PATH. /usr/sbin and /sbin
# count: servers such as dnsmasq and unbound live there, and the tests that start them run as root.
missing_programs() {
  local pkg group programs prog
  package_rows "$@" | while read -r pkg group programs; do
    [[ $programs == - ]] && continue
    for prog in ${programs//,/ }; do
      PATH="$PATH:/usr/sbin:/sbin" command -v "$prog" >/dev/null 2>&1 || echo "$prog $pkg"
    done
  done
}

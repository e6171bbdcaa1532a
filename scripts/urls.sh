# Sourced by scripts/run (and tests/platform/test_scripts.py): the addresses it derives.

# site_url HOST PORT: where the site is reached. A wildcard host (0.0.0.0, ::) is reached on
# the loopback address; an IPv6 address is written in brackets.
site_url() {
  local host="$1" port="$2"
  case "$host" in
    "" | 0.0.0.0) host=127.0.0.1 ;;
    :: | "[::]") host="[::1]" ;;
    \[*) ;;
    *:*) host="[$host]" ;;
  esac
  printf 'http://%s:%s\n' "$host" "$port"
}

# run_base_url HOST PORT [INSTANCE_CONFIG]: the BASE_URL (links in e-mails) scripts/run
# exports: the environment's BASE_URL if set; nothing if instance/config.py sets BASE_URL (the
# file then decides, as for any other setting); else the site's own address, so links follow
# HOST and PORT.
run_base_url() {
  local config="${3:-instance/config.py}"
  if [ -n "${BASE_URL:-}" ]; then
    printf '%s\n' "$BASE_URL"
  elif [ -f "$config" ] && grep -Eq '^[[:space:]]*BASE_URL[[:space:]]*=' "$config"; then
    return 0
  else
    site_url "$1" "$2"
  fi
}

# shellcheck shell=bash
# nginx for install.sh: the site rendered from nginx/fta.conf.template (also --render-nginx and
# the tests), and step 12, which publishes the portal.
# Sourced by install.sh (never run on its own); docs/install.md describes what it does.

# ---------------------------------------------------------------------------------------------
# nginx site rendering (also used by --render-nginx and the tests)
# ---------------------------------------------------------------------------------------------

# render_nginx_site OUT: writes the site for the resolved settings to OUT. Test-only overrides:
# FTA_NGINX_HTTP_PORT / FTA_NGINX_HTTPS_PORT (80/443), FTA_NGINX_FALLBACK_CERT/_KEY, FTA_ACME_ROOT.
render_nginx_site() {
    local out=$1 ipv6=0 http_port https_port https_suffix server_names
    [ -r /proc/net/if_inet6 ] && ipv6=1
    http_port=${FTA_NGINX_HTTP_PORT:-80}
    https_port=${FTA_NGINX_HTTPS_PORT:-443}
    if ! is_port "$http_port" || ! is_port "$https_port"; then fail "FTA_NGINX_HTTP_PORT/FTA_NGINX_HTTPS_PORT must be ports"; fi
    https_suffix=""
    [ "$https_port" = 443 ] || https_suffix=":$https_port"
    # The names a browser uses through a tunnel; anything else meets the default server's 444.
    server_names="127.0.0.1 localhost"
    awk -v mode="$NGINX_MODE" -v ipv6="$ipv6" \
        -v fta_port="$FTA_PORT_VALUE" -v nginx_port="$NGINX_PORT" -v listen=127.0.0.1 \
        -v server_names="$server_names" -v domain="$DOMAIN" \
        -v tls_cert="${RENDER_TLS_CERT:-$TLS_CERT}" -v tls_key="${RENDER_TLS_KEY:-$TLS_KEY}" \
        -v fallback_cert="${FTA_NGINX_FALLBACK_CERT:-$TLS_DIR/fallback.crt}" \
        -v fallback_key="${FTA_NGINX_FALLBACK_KEY:-$TLS_DIR/fallback.key}" \
        -v acme_root="${FTA_ACME_ROOT:-$ACME_ROOT}" \
        -v http_port="$http_port" -v https_port="$https_port" -v https_suffix="$https_suffix" '
        BEGIN { depth = 0; keep[0] = 1
                on["loopback"] = (mode == "loopback"); on["tls"] = (mode == "tls"); on["ipv6"] = (ipv6 == 1)
                v["FTA_PORT"] = fta_port; v["NGINX_PORT"] = nginx_port; v["LISTEN"] = listen
                v["SERVER_NAMES"] = server_names; v["DOMAIN"] = domain
                v["TLS_CERT"] = tls_cert; v["TLS_KEY"] = tls_key
                v["FALLBACK_CERT"] = fallback_cert; v["FALLBACK_KEY"] = fallback_key
                v["ACME_ROOT"] = acme_root; v["HTTP_PORT"] = http_port; v["HTTPS_PORT"] = https_port
                v["HTTPS_SUFFIX"] = https_suffix }
        /^#@if / { if (!($2 in on)) { print "unknown template condition: " $2 > "/dev/stderr"; exit 3 }
                   depth++; keep[depth] = keep[depth - 1] && on[$2]; next }
        /^#@end/ { if (depth == 0) { print "unbalanced #@end" > "/dev/stderr"; exit 3 }
                   depth--; next }
        !keep[depth] { next }
        { line = $0
          for (k in v) { gsub("@" k "@", v[k], line) }
          print line }
        END { if (depth != 0) { print "unbalanced #@if" > "/dev/stderr"; exit 3 } }
    ' "$SCRIPT_DIR/nginx/fta.conf.template" >"$out"
    local left
    left=$(grep -v '^[[:space:]]*#' "$out" | grep -oE '@[A-Z_]+@' | head -n1 || true)
    [ -z "$left" ] || fail "nginx template: unreplaced placeholder $left"
}

# ---------------------------------------------------------------------------------------------
# Step 12: nginx publishes the portal (loopback by default; public HTTPS with --domain).
# ---------------------------------------------------------------------------------------------
# Amazon Linux's nginx.conf carries its own `server { listen 80; ... }` inside http { }. This
# comments such top-level server blocks out (prefix "#fta# ", undone by --uninstall), leaving
# every other line as it is.
comment_out_server_blocks() {
    local file=$1 out=$2
    awk '
        function code(s) { sub(/#.*/, "", s); return s }
        {
            c = code($0)
            if (!inside && depth == 1 && top == "http" && c ~ /^[ \t]*server[ \t]*(\{|$)/) { inside = 1 }
            if (depth == 0 && match(c, /^[ \t]*[a-z_]+/)) { word = substr(c, RSTART, RLENGTH); gsub(/[ \t]/, "", word); if (c ~ /\{/) top = word }
            opens = gsub(/\{/, "{", c); closes = gsub(/\}/, "}", c)
            depth += opens - closes
            if (inside) { print "#fta# " $0; if (depth == 1) inside = 0; next }
            print
        }' "$file" >"$out"
}

disable_distro_default_site() {
    # Debian/Ubuntu: the "Welcome to nginx" site listens on port 80 as default_server.
    if [ -L /etc/nginx/sites-enabled/default ]; then
        changed "disable nginx's stock default site (sites-enabled/default; restored by --uninstall)"
        run rm -f /etc/nginx/sites-enabled/default
        DISABLED_DEFAULT_SITE=debian
    fi
    # Amazon Linux: the stock server block lives in nginx.conf itself.
    if [ -f /etc/nginx/nginx.conf ] && [ ! -d /etc/nginx/sites-enabled ]; then
        local tmp
        tmp=$(new_tmp)
        comment_out_server_blocks /etc/nginx/nginx.conf "$tmp"
        if ! cmp -s /etc/nginx/nginx.conf "$tmp"; then
            changed "comment out the stock server block in /etc/nginx/nginx.conf (lines prefixed '#fta# '; restored by --uninstall)"
            put_file "$tmp" /etc/nginx/nginx.conf 644 root root >/dev/null
            DISABLED_DEFAULT_SITE=rpm
        fi
    fi
    if [ -n "$DISABLED_DEFAULT_SITE" ]; then write_state_file >/dev/null; fi
}

ensure_fallback_cert() {
    [ -s "$TLS_DIR/fallback.crt" ] && [ -s "$TLS_DIR/fallback.key" ] && return 0
    changed "create a self-signed fallback certificate in $TLS_DIR (for unknown names on port 443)"
    ((DRY_RUN)) && return 0
    install -d -m 0700 -o root -g root "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=invalid \
        -keyout "$TLS_DIR/fallback.key" -out "$TLS_DIR/fallback.crt" >>"$INSTALL_LOG" 2>&1
    chmod 600 "$TLS_DIR/fallback.key"
}

nginx_running() { [ -s /run/nginx.pid ] && process_alive "$(cat /run/nginx.pid)"; }
# Present while an nginx that install.sh started (no systemd) runs; --uninstall stops that one.
readonly NGINX_STARTED_MARK=$RUN_DIR/nginx.started
stop_nginx() {
    local pid _
    pid=$(cat /run/nginx.pid 2>/dev/null) || return 0
    nginx -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do process_alive "$pid" || return 0; sleep 0.2; done
    kill -TERM "$pid" 2>/dev/null || true
}

# Installs a rendered site; on `nginx -t` failure the previous site comes back and the step fails.
install_nginx_site() {
    local rendered=$1 backup
    backup=$(new_tmp)
    [ -f "$NGINX_SITE" ] && cat "$NGINX_SITE" >"$backup"
    put_file "$rendered" "$NGINX_SITE" 644 root root
    NGINX_SITE_CHANGED=$FILE_CHANGED
    ((DRY_RUN)) && return 0
    if ! nginx -t >>"$INSTALL_LOG" 2>&1; then
        if [ -s "$backup" ]; then cat "$backup" >"$NGINX_SITE"; else rm -f "$NGINX_SITE"; fi
        fail "nginx -t rejects the configuration: $(nginx -t 2>&1 | grep -m1 emerg || true)"
    fi
}
NGINX_SITE_CHANGED=0

reload_nginx() {
    local changed_now=$1
    if ((HAVE_SYSTEMD)); then
        systemctl is-enabled --quiet nginx 2>/dev/null || { changed "enable nginx.service"; run systemctl enable nginx; }
        if ! systemctl is-active --quiet nginx 2>/dev/null; then changed "start nginx"; run systemctl start nginx
        elif ((changed_now)); then changed "reload nginx"; run systemctl reload nginx; fi
    elif nginx_running; then
        if ((changed_now)); then changed "reload nginx"; run nginx -s reload; fi
    else
        changed "start nginx (no systemd here: started directly; it does not come back after a reboot)"
        if ! ((DRY_RUN)); then
            nginx 9>&-
            ensure_run_dir "$RUN_DIR"
            : >"$NGINX_STARTED_MARK"
        fi
    fi
}

obtain_certificate() {
    # certbot's webroot method: nginx (already serving the challenge path on port 80) hands out
    # the files certbot writes; the renewal (certbot's own timer) reloads nginx via the hook.
    changed "obtain a Let's Encrypt certificate for $DOMAIN with certbot (webroot $ACME_ROOT)"
    ((DRY_RUN)) && return 0
    install -d -m 0755 "$ACME_ROOT"
    if certbot certonly --webroot -w "$ACME_ROOT" -d "$DOMAIN" --email "$EMAIL" --agree-tos \
        --non-interactive --keep-until-expiring --deploy-hook "nginx -s reload" >>"$INSTALL_LOG" 2>&1; then
        info "certificate obtained"
        return 0
    fi
    warn "certbot could not get a certificate for $DOMAIN (see $INSTALL_LOG). Check that $DOMAIN points to this
        server and that ports 80 and 443 are open (security group), then re-run install.sh. Until then
        the portal is served with a self-signed certificate."
    return 1
}

step_12_nginx() {
    step "Publishing the portal with nginx"
    local rendered have_cert=1
    disable_distro_default_site
    if [ "$NGINX_MODE" = tls ]; then
        ensure_fallback_cert
        run install -d -m 0755 "$ACME_ROOT"
        if [ ! -s "$TLS_CERT" ]; then have_cert=0; fi
    fi
    rendered=$(new_tmp)
    if ((have_cert)); then
        render_nginx_site "$rendered"
    else
        # First the site with the fallback certificate (so that port 80 serves the challenge),
        # then the real certificate.
        RENDER_TLS_CERT=$TLS_DIR/fallback.crt RENDER_TLS_KEY=$TLS_DIR/fallback.key render_nginx_site "$rendered"
    fi
    install_nginx_site "$rendered"
    reload_nginx "$NGINX_SITE_CHANGED"
    if ! ((have_cert)) && [ "$TLS_SOURCE" = certbot ]; then
        if obtain_certificate && ! ((DRY_RUN)); then
            render_nginx_site "$rendered"
            install_nginx_site "$rendered"
            reload_nginx 1
        fi
    fi
    ((DRY_RUN)) || check_published_portal
}

# The portal through nginx, as a browser would reach it.
check_published_portal() {
    local code="" _ url=http://127.0.0.1:$NGINX_PORT/api/v1/health curl_args=()
    if [ "$NGINX_MODE" = tls ]; then
        url=https://$DOMAIN/api/v1/health
        curl_args=(--insecure --resolve "$DOMAIN:443:127.0.0.1")
    fi
    for _ in $(seq 1 10); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${curl_args[@]}" "$url" || true)
        if [ "$code" = 200 ] || [ "$code" = 503 ]; then info "nginx serves the portal: $url answers $code"; return 0; fi
        sleep 1
    done
    warn "nginx does not serve the portal yet: $url answered ${code:-nothing}"
}


# Helpers of the web console's end-to-end scripts (source it after
# testlib.sh): `linesec serve` on a free port, curl requests with a cookie
# jar each, the CSRF token of a page, a login through the form.
# web_serve [options]: `linesec serve` on a free loopback port; sets url and server.
web_serve() {
	local i
	rm -f serve.out
	"$LINESEC" serve --listen 127.0.0.1:0 "$@" >serve.out 2>serve.err &
	server=$!
	servers+=("$server")
	for i in $(seq 1 100); do
		[ -s serve.out ] && break
		sleep 0.05
	done
	url=$(sed -n 's/^serving the web console on \(https*:[^ ]*\)\/ .*/\1/p' serve.out)
	[ -n "$url" ] || { bad "serve printed no address"; cat serve.out serve.err; }
}
# req NAME CURL-ARGS...: one request with the cookie jar NAME.jar; the
# status in $code, headers in NAME.h, body in NAME.html.
req() {
	local n=$1
	shift
	code=$(curl -sk -o "$n.html" -D "$n.h" -w '%{http_code}' -c "$n.jar" -b "$n.jar" "$@")
}
# csrf_of FILE: the CSRF token of the first form in FILE.
csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$1" | head -n 1; }
# web_login JAR NAME PASSWORD: the login form of a fresh page, then its POST.
web_login() {
	req "$1" "$url/login"
	req "$1" --data-urlencode "csrf=$(csrf_of "$1.html")" --data-urlencode "name=$2" \
		--data-urlencode "password=$3" "$url/login"
}
# leaf_text: the SQL of a leaf as text in this registry.
leaf_text() { if [ -n "${e2e_pg_url:-}" ]; then echo "convert_from(leaf, 'UTF8')"; else echo "CAST(leaf AS TEXT)"; fi; }
refused_logins() {
	local t
	t=$(leaf_text)
	sql "SELECT COUNT(*) FROM audit_leaves WHERE $t LIKE '%\"action\":\"login\"%' AND
	     $t LIKE '%\"outcome\":\"refused%' AND $t LIKE '%\"person\":\"$1\"%'"
}
web_refusals() {
	local t
	t=$(leaf_text)
	sql "SELECT COUNT(*) FROM audit_leaves WHERE $t LIKE '%\"action\":\"login\"%' AND
	     $t LIKE '%\"outcome\":\"refused%' AND $t LIKE '%\"person\":\"$1\"%' AND
	     $t LIKE '%\"channel\":\"web\"%' AND $t LIKE '%\"client\":\"$2\"%'"
}

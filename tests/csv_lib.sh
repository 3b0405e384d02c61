# csv_lib.sh - reading a CSV export (issue 18) held in $T/body, for the shell
# tests of the lists (cli_documents.sh, cli_cameras.sh, cli_web.sh).

csv_rows() { tail -n +2 "$T/body" | grep -c .; } # the data lines
# csv_ids: the first column of the data lines, sorted, separated by spaces
csv_ids() { tail -n +2 "$T/body" | cut -d, -f1 | tr -d '\r' | sort | paste -sd' '; }
# csv_header_is HEADER: the body starts with the byte order mark and the header line HEADER
csv_header_is() {
    [ "$(head -c 3 "$T/body" | od -An -tx1 | tr -d ' ')" = efbbbf ] &&
        [ "$(head -1 "$T/body" | tail -c +4 | tr -d '\r')" = "$1" ]
}
csv_has_id() { csv_ids | tr ' ' '\n' | grep -qxF -- "$1"; } # csv_has_id ID: a data line of ID
# csv_same_as_json NODE TOKEN PREFIX JQ FILTER...: for each FILTER, the CSV of the list at
# PREFIX (a path ending in ? or &) has the count and sorted ids that JQ ("N id id ...")
# reads from the JSON list with the same filter (uses the test's call and check)
csv_same_as_json() {
    local node=$1 tok=$2 pre=$3 expr=$4 f want; shift 4
    for f in "$@"; do
        [ "$(call GET "$node" "$tok" "$pre$f")" = 200 ] && want=$(jq -r "$expr" "$T/body")
        check "CSV of $pre$f at $node: as the JSON list, $want" \
            test "$(call GET "$node" "$tok" "${pre}format=csv&$f") $(csv_rows) $(csv_ids)" = "200 $want"
    done
}

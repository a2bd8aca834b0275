#!/usr/bin/env bash
# Installs wiretally's default IP data (who hosts an address: AS number, AS organisation, country) from the
# npm registry: @ip-location-db/asn (RouteViews + DB-IP + NRO ranges, CSV, converted here into a MaxMind DB
# with scripts/ipdb/csv_to_mmdb.pl) and @ip-location-db/geo-whois-asn-country-mmdb (NRO GeoFeed + whois +
# ASN countries, MMDB). Writes DIR/asn.mmdb, DIR/country.mmdb, their licence files and DIR/datasets.json
# (name, source, licence and date of each set, which the report prints).
#
#   scripts/ipdb/install.sh [--update] [DIR]
#
# DIR: default /usr/local/share/wiretally/ipdb (where a default build looks; WIRETALLY_IPDB_DIR overrides
# it at run time). Idempotent: with the data present it does nothing; --update fetches the newest release.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
update=0
dir=/usr/local/share/wiretally/ipdb
for arg in "$@"; do
  case "$arg" in
    --update) update=1 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "ipdb: unknown option '$arg'" >&2; exit 64 ;;
    *) dir="$arg" ;;
  esac
done

if [[ $update -eq 0 && -s "$dir/datasets.json" && -s "$dir/asn.mmdb" && -s "$dir/country.mmdb" ]]; then
  echo "ipdb: IP data present in $dir ($(grep -o '"date": *"[0-9-]*"' "$dir/datasets.json" | head -1 | grep -o '[0-9-]\{10\}'))"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "ipdb: fetching @ip-location-db/asn and @ip-location-db/geo-whois-asn-country-mmdb from the npm registry"
if ! (cd "$work" && npm pack --silent @ip-location-db/asn @ip-location-db/geo-whois-asn-country-mmdb >packed.txt); then
  echo "ipdb: npm could not fetch the IP data packages (no registry access?); wiretally runs without them" \
       "(hosting columns empty) or with --ipdb FILE" >&2
  exit 69
fi
mkdir -p "$work/asn" "$work/country"
tar -xzf "$work"/ip-location-db-asn-*.tgz -C "$work/asn"
tar -xzf "$work"/ip-location-db-geo-whois-asn-country-mmdb-*.tgz -C "$work/country"

# The packages' versions end in the data's date and hour: 2.3.2026061719 -> 2026-06-17.
version_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$1"; }
date_of() { sed -n 's/.*\.\([0-9]\{4\}\)\([0-9]\{2\}\)\([0-9]\{2\}\)[0-9]\{2\}$/\1-\2-\3/p' <<<"$1"; }
asn_version="$(version_of "$work/asn/package/package.json")"
country_version="$(version_of "$work/country/package/package.json")"
asn_date="$(date_of "$asn_version")"
country_date="$(date_of "$country_version")"
epoch="$(date -u -d "${asn_date:-1970-01-01}" +%s)"

mkdir -p "$dir"
perl "$here/csv_to_mmdb.pl" --type asn --out "$work/asn.mmdb" --epoch "$epoch" \
  --description "ip-location-db asn $asn_version (RouteViews, DB-IP, NRO; CC BY 4.0)" \
  "$work/asn/package/asn-ipv4.csv" "$work/asn/package/asn-ipv6.csv"
install -m 0644 "$work/asn.mmdb" "$dir/asn.mmdb"
install -m 0644 "$work/country/package/geo-whois-asn-country.mmdb" "$dir/country.mmdb"
for f in "$work"/asn/package/*LICENSE "$work"/country/package/*LICENSE "$work/asn/package/MODIFICATIONS"; do
  [[ -f "$f" ]] && install -m 0644 "$f" "$dir/$(basename "$f")"
done
cat >"$dir/datasets.json.tmp" <<JSON
[
  {"file": "asn.mmdb", "name": "ip-location-db asn", "source": "npm @ip-location-db/asn $asn_version",
   "licence": "CC BY 4.0: RouteViews (routeviews.org), DB-IP (db-ip.com), NRO (nro.net)", "date": "$asn_date"},
  {"file": "country.mmdb", "name": "ip-location-db geo-whois-asn-country",
   "source": "npm @ip-location-db/geo-whois-asn-country-mmdb $country_version",
   "licence": "CC BY 4.0: NRO (nro.net)", "date": "$country_date"}
]
JSON
mv "$dir/datasets.json.tmp" "$dir/datasets.json"
echo "ipdb: installed in $dir: AS data of $asn_date, country data of $country_date"

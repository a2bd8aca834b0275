#!/usr/bin/perl
# Converts IP-range CSV files (first,last,asn,organisation or first,last,country) into one MaxMind DB
# (MMDB) file, the format wiretally's IP data lookups read through libmaxminddb. Used by
# scripts/ipdb/install.sh for the default data set, and by the tests to build small databases.
#
#   csv_to_mmdb.pl --type asn|country|ipinfo --out FILE [--description TEXT] [--epoch SECONDS] CSV...
#
# Rows and the records they become (the layouts wiretally reads from any MMDB):
#   asn      first,last,asn,organisation  {autonomous_system_number, autonomous_system_organization}  (GeoLite2-ASN)
#   country  first,last,cc               {country: {iso_code}}                                         (GeoLite2-Country)
#   ipinfo   first,last,asn,org,cc        {asn: "AS<n>", as_name, country_code}                         (IPinfo Lite)
# A malformed row is an error naming its file and line.
use strict;
use warnings;
use Getopt::Long;
use MaxMind::DB::Writer::Tree;
use Net::Works::Network;

my ($type, $out, $description, $epoch) = ('', '', '', time());
GetOptions('type=s' => \$type, 'out=s' => \$out, 'description=s' => \$description, 'epoch=i' => \$epoch)
    or die "usage: $0 --type asn|country --out FILE [--description TEXT] [--epoch SECONDS] CSV...\n";
die "$0: --type must be asn, country or ipinfo\n" unless $type =~ /\A(?:asn|country|ipinfo)\z/;
die "$0: --out FILE is required\n" unless $out;
die "$0: no CSV files given\n" unless @ARGV;

my %types = (
    autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string',
    country => 'map', iso_code => 'utf8_string',
    asn => 'utf8_string', as_name => 'utf8_string', country_code => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 28,
    database_type         => { asn => 'wiretally-ASN', country => 'wiretally-Country', ipinfo => 'wiretally-IPinfo' }->{$type},
    languages             => ['en'],
    description           => { en => $description || "wiretally $type data" },
    map_key_type_callback => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4    => 0,  # IPv4 is looked up in ::/96 (libmaxminddb does); aliases would refuse Teredo ranges
    remove_reserved_networks => 0,
    merge_strategy        => 'none',
);
{
    no warnings 'redefine';
    # The writer's build epoch is "now"; a fixed one keeps the file reproducible.
    *MaxMind::DB::Writer::Tree::_build_epoch = sub { $epoch } if MaxMind::DB::Writer::Tree->can('_build_epoch');
}

my $rows = 0;
for my $file (@ARGV) {
    open(my $fh, '<:encoding(UTF-8)', $file) or die "$file: $!\n";
    while (my $line = <$fh>) {
        $line =~ s/\r?\n\z//;
        next if $line eq '';
        my ($first, $last, @rest) = parse_csv($line);
        die "$file:$.: expected first,last,... (got '$line')\n" unless defined $last && @rest;
        my $record;
        if ($type eq 'asn') {
            my ($asn, $org) = @rest;
            die "$file:$.: AS number '$asn' is not a number\n" unless defined $asn && $asn =~ /\A\d+\z/;
            $record = { autonomous_system_number => 0 + $asn };
            $record->{autonomous_system_organization} = $org if defined $org && $org ne '';
        } elsif ($type eq 'country') {
            my ($cc) = @rest;
            die "$file:$.: country '$cc' is not a two-letter code\n" unless $cc =~ /\A[A-Za-z]{2}\z/;
            $record = { country => { iso_code => uc $cc } };
        } else {
            my ($asn, $org, $cc) = @rest;
            die "$file:$.: expected first,last,asn,org,cc\n" unless defined $cc && $asn =~ /\A\d+\z/;
            $record = { asn => "AS$asn", as_name => $org, country_code => uc $cc };
        }
        eval { $tree->insert_range($first, $last, $record); 1 }
            or die "$file:$.: cannot insert $first-$last: $@";
        ++$rows;
    }
    close $fh;
}
open(my $fh, '>:raw', "$out.tmp") or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename("$out.tmp", $out) or die "$out: $!\n";
print STDERR "csv_to_mmdb: $out: $rows ranges\n";

# RFC 4180 fields: commas inside double quotes, "" for a quote.
sub parse_csv {
    my ($line) = @_;
    my @fields;
    while ($line =~ /\G(?:"((?:[^"]|"")*)"|([^,]*))(,|\z)/g) {
        my ($quoted, $plain, $separator) = ($1, $2, $3);  # the s/// below resets $1..$3
        push @fields, defined $quoted ? $quoted =~ s/""/"/gr : $plain;
        last if $separator eq '';
    }
    return @fields;
}

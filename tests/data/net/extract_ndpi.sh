#!/bin/sh
# Single frames cut from the nDPI test corpus (real captures; ../shared/corpus/ndpi/pcap beside the source tree)
# with editcap, for the tunnel / link-type vectors in tests/parsers/net/vectors.hpp
# (regenerate those with tests/parsers/net/gen_vectors.py). Not recorded here: this
# machine cannot produce GTP-U, CAPWAP, PPTP, PPP or C-HDLC traffic of its own.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
C=$(cd "${1:-$here/../../../../shared/corpus/ndpi/pcap}" && pwd)
cd "$here"
editcap -F pcap -r "$C/http_origin_different_than_host.pcap" gtp4.pcap 1-2 # QinQ, GTP-U, IPv4 TCP
editcap -F pcap -r "$C/ipv6_in_gtp.pcap" gtp6.pcap 1-2                     # QinQ, GTP-U, IPv6 UDP / ESP
editcap -F pcap -r "$C/capwap_data.pcapng" capwap.pcap 1                   # QinQ, CAPWAP, 802.11 (swapped FC), IPv4 TCP
editcap -F pcap -r "$C/capwap.pcap" capwap_dhcp.pcap 280                   # CAPWAP, 802.11, IPv4 UDP DHCP
editcap -F pcap -r "$C/gre.pcapng" gre_pptp.pcap 1                         # VLAN, IPv4, GRE v1 (PPTP), PPP, IPv4 UDP SIP
editcap -F pcap -r "$C/dlt_ppp.pcap" ppp.pcap 1                            # LINKTYPE_PPP, IPv4 UDP QUIC
editcap -F pcap -r "$C/BGP_Cisco_hdlc_slarp.pcap" ppp_chdlc.pcap 1         # LINKTYPE_PPP holding C-HDLC, IPv4 TCP BGP
editcap -F pcap -r "$C/BGP_redist.pcap" chdlc_mpls.pcap 2                  # LINKTYPE_C_HDLC, MPLS, IPv4 TCP BGP
editcap -F pcap -r "$C/discord_mid_flow.pcap" pppoe.pcap 1                 # QinQ, PPPoE session, IPv4 UDP
editcap -F pcap -r "$C/gtp_c.pcap" gtp_c.pcap 1                            # GTPv2-C on 2123: not decapsulated

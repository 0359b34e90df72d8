package dataplane

//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -type fwd_port_info -type fwd_vlan_key -type fwd_port_bd_key -type fwd_tags -type fwd_bd_info -type fwd_fdb_slot -type fwd_es_info -type fwd_nh_info -type fwd_nhg -type fwd_nhg_bucket -type fwd_vtep_key -type fwd_vtep_info -type fwd_es_peer_key -type fwd_cfg -type fwd_learn_event -type fwd_trace_rec -type fwd_counter -type fwd_fdb_kind bpf ../bpf/fwd_xdp.c
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -type fwd_gen_cfg -type fwd_sink_cfg bench ../bpf/bench.c

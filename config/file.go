package config

import "go.yaml.in/yaml/v3"

// The file's schema as YAML sees it. Every field is a string, an int64, a
// bool or a pointer to one, so that decoding never stops at a bad value:
// numbers are range-checked and strings parsed afterwards, where every
// problem is collected with its path. Pointers tell a missing field from a
// zero one.

type fileConfig struct {
	VTEP4            *string               `yaml:"vtep4"`
	VTEP6            *string               `yaml:"vtep6"`
	RouterMAC        *string               `yaml:"router_mac"`
	Interfaces       []fileInterface       `yaml:"interfaces"`
	BridgeDomains    []fileBridgeDomain    `yaml:"bridge_domains"`
	EthernetSegments []fileEthernetSegment `yaml:"ethernet_segments"`
	Multihoming      *fileMultihoming      `yaml:"multihoming"`
	Hooks            *fileHooks            `yaml:"hooks"`
	API              *fileAPI              `yaml:"api"`
	Log              *fileLog              `yaml:"log"`
	Dataplane        *fileDataplane        `yaml:"dataplane"`
	BGP              yaml.Node             `yaml:"bgp"`
}

type fileInterface struct {
	Name        *string    `yaml:"name"`
	Role        *string    `yaml:"role"`
	UntaggedVNI *int64     `yaml:"untagged_vni"`
	VLANs       []fileVLAN `yaml:"vlans"`
	Learn       *bool      `yaml:"learn"`
}

type fileVLAN struct {
	VLAN      *int64 `yaml:"vlan"`
	InnerVLAN *int64 `yaml:"inner_vlan"`
	VNI       *int64 `yaml:"vni"`
}

type fileBridgeDomain struct {
	VNI        *int64          `yaml:"vni"`
	Name       *string         `yaml:"name"`
	StaticMACs []fileStaticMAC `yaml:"static_macs"`
}

type fileStaticMAC struct {
	MAC       *string `yaml:"mac"`
	Interface *string `yaml:"interface"`
	VTEP      *string `yaml:"vtep"`
}

type fileEthernetSegment struct {
	Name         *string `yaml:"name"`
	Interface    *string `yaml:"interface"`
	ESI          *string `yaml:"esi"`
	ESID         *int64  `yaml:"es_id"`
	SysMAC       *string `yaml:"es_sys_mac"`
	DFAlgorithm  *string `yaml:"df_algorithm"`
	DFPreference *int64  `yaml:"df_preference"`
}

type fileMultihoming struct {
	DFDelay      *string `yaml:"df_delay"`
	EADPerESOnly *bool   `yaml:"ead_per_es_only"`
}

type fileHooks struct {
	Dir *string `yaml:"dir"`
}

type fileAPI struct {
	Socket    *string `yaml:"socket"`
	ReadGroup *string `yaml:"read_group"`
}

type fileLog struct {
	Format *string `yaml:"format"`
	Level  *string `yaml:"level"`
}

type fileDataplane struct {
	PinDir        *string `yaml:"pin_dir"`
	FDBSize       *int64  `yaml:"fdb_size"`
	FDBCacheSets  *int64  `yaml:"fdb_cache_sets"`
	KeepXDPOnStop *bool   `yaml:"keep_xdp_on_stop"`
	VXLANPort     *int64  `yaml:"vxlan_port"`
	TTL           *int64  `yaml:"ttl"`
	LearnRate     *int64  `yaml:"learn_rate"`
	LearnBurst    *int64  `yaml:"learn_burst"`
}

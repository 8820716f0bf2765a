package yamlbomb

import "testing"

func TestMappingIsAboutThreeKB(t *testing.T) {
	if n := len(Mapping(0)); n < 2500 || n > 4096 {
		t.Fatalf("the bomb is %d bytes, want about 3 KB", n)
	}
	if testing.Verbose() {
		t.Logf("%d bytes", len(Mapping(0)))
	}
}

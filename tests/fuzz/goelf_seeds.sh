#!/bin/bash
# Regenerate the Go reader's fuzz seeds in tests/fuzz/corpus/goelf_fuzz (run from the top
# of the tree, then commit what changed):
#   go1NN-ARCH          tiny Go-shaped images laid out by tests/unit/test_goelf.c
#   real-go1.27-ARCH    tests/fixtures/go/fuzzseed built by Go 1.27, stripped, and trimmed:
#                       what the reader parses stays (ELF headers, build info, the pclntab's
#                       names and function table, type descriptors, data); machine code and
#                       the pc-value and file tables are zeroed, so that git compresses them
#                       away (about 160 KB each instead of 1.2 MB).
set -eu
. tests/go_toolchains.sh
dir=tests/fuzz/corpus/goelf_fuzz
make -s build/tests/unit-tests
EHTTP_FUZZ_SEEDS=$dir build/tests/unit-tests --filter 'goelf_image/write_fuzz_seeds'
for arch in amd64 arm64; do
	bin=$(go_fixture 1.27 fuzzseed "$([ $arch = arm64 ] && echo arm64stripped || echo staticstripped)")
	python3 - "$bin" "$dir/real-go1.27-$arch" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 0x3a)
def sh(i): return struct.unpack_from('<IIQQQQIIQQ', d, shoff + i * shentsize)
strtab = sh(shstrndx)
for i in range(shnum):
    s = sh(i)
    name = d[strtab[4] + s[0]:].split(b'\0')[0].decode()
    off, size = s[4], s[5]
    if name == '.text':
        d[off:off + size] = bytes(size)
    elif name == '.gopclntab':  # header words: ... cuOffset, filetabOffset, pctabOffset, pclnOffset
        cu, _, pctab, pcln = (struct.unpack_from('<Q', d, off + 8 + 8 * k)[0] for k in range(4, 8))
        d[off + cu:off + pcln] = bytes(pcln - cu)
open(sys.argv[2], 'wb').write(d)
PY
	echo "$dir/real-go1.27-$arch: $(build/ehttp offsets "$dir/real-go1.27-$arch" main.T | head -n 1)"
done

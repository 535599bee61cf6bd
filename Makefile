# Shorthands for ./dev.sh (which works on a machine without make).
.PHONY: run test asan bench bench-fusion bench-gemm build format
run test asan bench bench-fusion bench-gemm build format:
	./dev.sh $@

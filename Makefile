# Shorthands for ./dev.sh (which works on a machine without make).
.PHONY: run test asan build format
run test asan build format:
	./dev.sh $@

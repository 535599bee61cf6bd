# Shorthands for ./dev.sh (which works on a machine without make).
.PHONY: run test asan bench build format
run test asan bench build format:
	./dev.sh $@

# The two commands of the README: `make run` and `make test`. Both install what is missing
# (deploy/install-deps.sh), then build the Release preset.
PRESET ?= release
LISTEN ?= 127.0.0.1:50051
DATA_DIR ?= ./mlprod-data

.PHONY: deps build run test bench clean

deps:
	@bash deploy/install-deps.sh

build: deps
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET)

run: build
	./build/$(PRESET)/server/mlprod-server --listen $(LISTEN) --data-dir $(DATA_DIR)

test: build
	ctest --preset $(PRESET)

bench: build
	cmake --build --preset $(PRESET) --target mlprod_bench
	./build/$(PRESET)/bench/mlprod_bench

clean:
	rm -rf build

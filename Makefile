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

# mlprod against numpy, statsmodels and pandas in one session (bench/run_bench.py, SPEC §10); the
# peers come from `deploy/install-deps.sh --bench`, which `make test` never needs. About 5-10 minutes.
bench:
	@bash deploy/install-deps.sh --bench
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET) --target mlprod_bench mlprod_ols_bench mlprod_serve_bench mlprod mlprod-server
	/usr/bin/python3 bench/run_bench.py --build-dir build/$(PRESET)

clean:
	rm -rf build

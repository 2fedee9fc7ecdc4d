# `make demo` and `make test` (the full suite, what CI runs); `make test-fast` leaves out the tests marked
# slow (torchrun, browser, kill -9). All create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-out

.PHONY: install demo cyclegan-demo test test-fast bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The pinned CPU build first: an unpinned torch would pull several GB of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test,tensorboard]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ganforge train gan --preset cgan-mnist --data mnist5k --steps 2500 --sample-every 500 --ckpt-every 500 \
		--out $(DEMO)
	$(BIN)/ganforge sample $$(ls -d $(DEMO)/gan-* | tail -n 1)/checkpoint.pt -n 100 --seed 0 -o $(DEMO)/grid.png
	$(BIN)/ganforge eval $$(ls -d $(DEMO)/gan-* | tail -n 1)/checkpoint.pt --num 2000

cyclegan-demo: install
	$(BIN)/ganforge train cyclegan --eval-every 500 --out $(DEMO)
	$(BIN)/ganforge eval $$(ls -d $(DEMO)/cyclegan-* | tail -n 1)
	$(BIN)/ganforge translate $$(ls -d $(DEMO)/cyclegan-* | tail -n 1) src/ganforge/data/builtin/photos -o $(DEMO)/vintage
	@echo "before/after at full resolution (held-out part of each photo): $$(ls -d $(DEMO)/cyclegan-* | tail -n 1)/photos.png"
	@echo "the shipped photos translated at their own resolution: $(DEMO)/vintage/"

# The fast tests on two workers (one per core), then the slow ones (torchrun, browser, kill -9,
# sweep subprocesses) alone and in order, so multi-process tests never compete with a worker.
test: install
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadscope
	$(BIN)/python -m pytest -m slow

# Two pytest workers (pytest-xdist), one per core, each test module on one worker (loadscope), so a
# module's fixtures (tiny trained runs, the bad-input folder) are built once, not once per worker.
test-fast: install
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadscope

bench: install
	$(BIN)/python benchmarks/gan_step.py
	$(BIN)/python benchmarks/gru_step.py

clean:
	rm -rf $(VENV) $(DEMO) runs build src/*.egg-info

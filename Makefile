# Two commands do all the set-up on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    creates .venv-app with the runtime dependencies and starts the app
#   make test   creates .venv with the train, dev and scale extras and runs the whole test suite
PYTHON ?= python3
APP_VENV := .venv-app
DEV_VENV := .venv
# rapidocr without its opencv-python requirement (see pyproject.toml)
OCR_PACKAGE := rapidocr-onnxruntime==1.4.4
APT_PACKAGES := fonts-wqy-microhei fonts-hanazono poppler-utils libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3

.PHONY: run test system-packages lint

system-packages:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

$(APP_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install -q --upgrade pip
	$(APP_VENV)/bin/pip install -q -e .
	$(APP_VENV)/bin/pip install -q --no-deps $(OCR_PACKAGE)
	touch $@

$(DEV_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(DEV_VENV)
	$(DEV_VENV)/bin/pip install -q --upgrade pip
	$(DEV_VENV)/bin/pip install -q torch==2.13.0
	$(DEV_VENV)/bin/pip install -q -e '.[train,dev,scale]'
	$(DEV_VENV)/bin/pip install -q --no-deps $(OCR_PACKAGE)
	touch $@

run: system-packages $(APP_VENV)/.installed
	$(APP_VENV)/bin/tcm-desktop

test: system-packages $(DEV_VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(DEV_VENV)/bin/python -m pytest -q

lint: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/ruff check tcm_desktop tests benchmarks

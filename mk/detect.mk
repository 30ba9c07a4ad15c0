# MTCNN face detection (issue 18): the SavedModels, the golden file from the real mtcnn package, the
# 5-celebrity photos it is measured on, and the detection benchmark.

# P-Net, R-Net and O-Net from PyPI mtcnn 1.0.0 (pinned in scripts/requirements.txt).
$(MODELS)/mtcnn/.done: scripts/export_mtcnn.py $(VENV)/.installed
	$(PY) scripts/export_mtcnn.py --out $(MODELS)/mtcnn
	@touch $@

"""The shipped ONNX models and their cards, installed as package data (see recognizer/onnx.py: MODELS_DIR)."""

"""Stage 2, detect: pixels in, detections out. No file or database I/O here.

Each heavy library (dlib, onnxruntime, Tesseract, zxing) is imported inside its adapter, so that
importing this package stays cheap.
"""

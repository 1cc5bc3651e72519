//! Small ONNX models written byte by byte (protobuf wire format), so tests of custom model
//! formats need no download and no Python: [`yolov8_detector`] builds a YOLOv8/YOLO11-format
//! detector (`images [1, 3, H, W]` → `output0 [1, 4 + C, N]`, no objectness) whose outputs
//! are known exactly: each anchor has a fixed box and class, and its score is the mean of the
//! input's first channel over a region of the image (plus a constant) — so a bright object
//! appearing in that region is "detected" there, as a trained model would see it.

/// One output column of the model.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// `[cx, cy, w, h]` in model-input pixels.
    pub bbox: [f32; 4],
    pub class: usize,
    /// Added to the score.
    pub base: f32,
    /// The score rises by the mean of channel 0 over `[x1, y1, x2, y2]` (input pixels) times
    /// `gain`; `None`: a constant score.
    pub region: Option<([i64; 4], f32)>,
}

/// A YOLOv8-format model: input `images` `[1, 3, height, width]`, output `output0`
/// `[1, 4 + classes, anchors]` (opset 13).
pub fn yolov8_detector(width: i64, height: i64, classes: usize, anchors: &[Anchor]) -> Vec<u8> {
    let rows = 4 + classes;
    let n = anchors.len();
    let mut base = vec![0f32; rows * n];
    for (j, a) in anchors.iter().enumerate() {
        for (r, v) in a.bbox.iter().enumerate() {
            base[r * n + j] = *v;
        }
        base[(4 + a.class) * n + j] = a.base;
    }
    let mut nodes = Vec::new();
    let mut inits = vec![tensor_f32("base", &[1, rows as i64, n as i64], &base)];
    let mut sum = "base".to_string();
    for (j, a) in anchors.iter().enumerate() {
        let Some(([x1, y1, x2, y2], gain)) = a.region else {
            continue;
        };
        let p = format!("a{j}");
        inits.push(tensor_i64(&format!("{p}_starts"), &[4], &[0, 0, y1, x1]));
        inits.push(tensor_i64(&format!("{p}_ends"), &[4], &[1, 1, y2, x2]));
        inits.push(tensor_i64(&format!("{p}_axes"), &[4], &[0, 1, 2, 3]));
        let mut onehot = vec![0f32; rows * n];
        onehot[(4 + a.class) * n + j] = gain;
        inits.push(tensor_f32(
            &format!("{p}_onehot"),
            &[1, rows as i64, n as i64],
            &onehot,
        ));
        nodes.push(node(
            "Slice",
            &[
                "images",
                &format!("{p}_starts"),
                &format!("{p}_ends"),
                &format!("{p}_axes"),
            ],
            &format!("{p}_region"),
            &[],
        ));
        nodes.push(node(
            "ReduceMean",
            &[&format!("{p}_region")],
            &format!("{p}_mean"),
            &[attr_ints("axes", &[0, 1, 2, 3]), attr_int("keepdims", 0)],
        ));
        nodes.push(node(
            "Mul",
            &[&format!("{p}_mean"), &format!("{p}_onehot")],
            &format!("{p}_score"),
            &[],
        ));
        let next = format!("{p}_sum");
        nodes.push(node("Add", &[&sum, &format!("{p}_score")], &next, &[]));
        sum = next;
    }
    nodes.push(node("Identity", &[&sum], "output0", &[]));
    let mut graph = Vec::new();
    for n in &nodes {
        bytes(&mut graph, 1, n);
    }
    bytes(&mut graph, 2, b"yolov8_test");
    for t in &inits {
        bytes(&mut graph, 5, t);
    }
    bytes(
        &mut graph,
        11,
        &value_info("images", &[1, 3, height, width]),
    );
    bytes(
        &mut graph,
        12,
        &value_info("output0", &[1, rows as i64, n as i64]),
    );
    let mut opset = Vec::new();
    bytes(&mut opset, 1, b"");
    int(&mut opset, 2, 13);
    let mut model = Vec::new();
    int(&mut model, 1, 7); // IR version 7 (ONNX 1.8+)
    bytes(&mut model, 2, b"vigil-testkit");
    bytes(&mut model, 7, &graph);
    bytes(&mut model, 8, &opset);
    model
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn int(out: &mut Vec<u8>, field: u64, v: i64) {
    varint(out, field << 3);
    varint(out, v as u64);
}

fn bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// TensorProto with raw little-endian data (FLOAT = 1, INT64 = 7).
fn tensor(name: &str, dims: &[i64], data_type: i64, raw: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    for &d in dims {
        int(&mut t, 1, d);
    }
    int(&mut t, 2, data_type);
    bytes(&mut t, 8, name.as_bytes());
    bytes(&mut t, 9, raw);
    t
}

fn tensor_f32(name: &str, dims: &[i64], data: &[f32]) -> Vec<u8> {
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, dims, 1, &raw)
}

fn tensor_i64(name: &str, dims: &[i64], data: &[i64]) -> Vec<u8> {
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, dims, 7, &raw)
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        bytes(&mut n, 1, i.as_bytes());
    }
    bytes(&mut n, 2, output.as_bytes());
    bytes(&mut n, 3, format!("{op}_{output}").as_bytes());
    bytes(&mut n, 4, op.as_bytes());
    for a in attrs {
        bytes(&mut n, 5, a);
    }
    n
}

/// AttributeProto of type INT (2).
fn attr_int(name: &str, v: i64) -> Vec<u8> {
    let mut a = Vec::new();
    bytes(&mut a, 1, name.as_bytes());
    int(&mut a, 3, v);
    int(&mut a, 20, 2);
    a
}

/// AttributeProto of type INTS (7).
fn attr_ints(name: &str, v: &[i64]) -> Vec<u8> {
    let mut a = Vec::new();
    bytes(&mut a, 1, name.as_bytes());
    for &x in v {
        int(&mut a, 8, x);
    }
    int(&mut a, 20, 7);
    a
}

/// ValueInfoProto of a float tensor with a fixed shape.
fn value_info(name: &str, dims: &[i64]) -> Vec<u8> {
    let mut shape = Vec::new();
    for &d in dims {
        let mut dim = Vec::new();
        int(&mut dim, 1, d);
        bytes(&mut shape, 1, &dim);
    }
    let mut tensor_type = Vec::new();
    int(&mut tensor_type, 1, 1);
    bytes(&mut tensor_type, 2, &shape);
    let mut ty = Vec::new();
    bytes(&mut ty, 1, &tensor_type);
    let mut v = Vec::new();
    bytes(&mut v, 1, name.as_bytes());
    bytes(&mut v, 2, &ty);
    v
}

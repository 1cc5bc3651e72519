//! Object detection with ONNX Runtime.
//!
//! [`Detector`] owns one `ort` session (one per worker thread) and turns an [`Image`] into
//! [`Detection`]s in source-frame pixels:
//!
//! 1. [`preprocess`]: resize (letterbox or stretch, bilinear with half-pixel centres), colour
//!    order and normalisation exactly as the model's manifest says, into a reused NCHW buffer;
//! 2. `session.run`;
//! 3. [`decode`]: the model family's output format (YOLOX grids, PicoDet GFL/DFL maps,
//!    YOLOv8/YOLO11 anchor columns) into scored boxes above the threshold;
//! 4. [`nms`]: non-maximum suppression **across each class group**, so one vehicle is not
//!    reported as car + bus + truck.
//!
//! The ONNX Runtime library is loaded at run time (`ort`'s `load-dynamic`); [`runtime`] finds
//! it and fails with a clear error — not a panic — when it is missing.

pub mod decode;
pub mod nms;
pub mod preprocess;
pub mod remap;
pub mod runtime;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use std::time::{Duration, Instant};
use vigil_config::{ModelFamily, ModelManifest};
use vigil_core::{Detection, Image, Size};

pub use decode::Candidate;

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(
        "ONNX Runtime library not found (looked in: {0}); run scripts/setup, or set VIGIL_ORT_LIB to libonnxruntime.so"
    )]
    RuntimeMissing(String),
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    #[error(
        "model file {path} not found: run models/fetch, or point VIGIL_ASSETS at a folder holding models/{file}"
    )]
    ModelMissing { path: String, file: String },
    #[error("model {model}: {message}")]
    Model { model: String, message: String },
    #[error(
        "execution provider {provider} cannot be used: {message} (a GPU needs the onnxruntime-gpu build of ONNX Runtime, with its CUDA provider library beside libonnxruntime.so, and CUDA 13 with cuDNN 9)"
    )]
    Provider { provider: String, message: String },
}

fn rt<E: std::fmt::Display>(e: E) -> DetectError {
    DetectError::Runtime(e.to_string())
}

/// Detector settings beside the manifest.
#[derive(Clone, Debug)]
pub struct DetectorOptions {
    /// Candidates below this score are discarded before NMS.
    pub score_threshold: f32,
    /// IoU above which a lower-scored box of the same group is suppressed.
    pub nms_iou: f32,
    /// ONNX Runtime intra-op threads.
    pub intra_threads: usize,
    /// Where inference runs; a GPU that cannot be used is an error ([`DetectError::Provider`]).
    pub execution_provider: vigil_config::ExecutionProvider,
}

/// Registers the execution provider `ep` asks for, failing — never falling back to the CPU —
/// when it cannot be used or this build lacks its cargo feature.
fn with_provider(
    builder: ort::session::builder::SessionBuilder,
    ep: vigil_config::ExecutionProvider,
) -> Result<ort::session::builder::SessionBuilder, DetectError> {
    use vigil_config::ExecutionProvider as Ep;
    let failed = |message: String| DetectError::Provider {
        provider: ep.name(),
        message,
    };
    match ep {
        Ep::Cpu => Ok(builder),
        #[cfg(feature = "cuda")]
        Ep::Cuda { device_id } => builder
            .with_execution_providers([ort::ep::CUDA::default()
                .with_device_id(device_id)
                .build()
                .error_on_failure()])
            .map_err(|e| failed(e.to_string())),
        #[cfg(feature = "tensorrt")]
        Ep::TensorRt { device_id } => builder
            .with_execution_providers([ort::ep::TensorRT::default()
                .with_device_id(device_id)
                .build()
                .error_on_failure()])
            .map_err(|e| failed(e.to_string())),
        #[allow(unreachable_patterns)]
        Ep::Cuda { .. } | Ep::TensorRt { .. } => {
            let feature = match ep {
                Ep::TensorRt { .. } => "tensorrt",
                _ => "cuda",
            };
            Err(failed(format!(
                "this vigil was built without the `{feature}` feature (cargo build --release -p vigil --features {feature})"
            )))
        }
    }
}

/// Where one frame's detection time went (wall clock on the calling thread).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DetectTimes {
    /// Frame → input tensor.
    pub preprocess: Duration,
    /// `session.run`.
    pub infer: Duration,
    /// `session.run`'s CPU time on the calling thread (all of it with one intra-op thread).
    pub infer_cpu: Duration,
    /// Output decoding and NMS.
    pub postprocess: Duration,
}

/// One inference session with its pre- and post-processing.
pub struct Detector {
    manifest: ModelManifest,
    options: DetectorOptions,
    session: Session,
    input_name: String,
    pre: preprocess::Preprocessor,
}

impl Detector {
    /// Loads the model of `manifest` (ONNX Runtime must be initialised: [`runtime::init`]).
    pub fn new(manifest: &ModelManifest, options: DetectorOptions) -> Result<Self, DetectError> {
        let env = runtime::environment()?;
        if !manifest.file.is_file() {
            return Err(DetectError::ModelMissing {
                path: manifest.file.display().to_string(),
                file: manifest
                    .file
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into(),
            });
        }
        let builder = with_provider(
            Session::builder(&env).map_err(rt)?,
            options.execution_provider,
        )?;
        let session = builder
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(rt)?
            .with_intra_threads(options.intra_threads.max(1))
            .map_err(rt)?
            .with_inter_threads(1)
            .map_err(rt)?
            // Spinning threads steal the cores decoding needs.
            .with_intra_op_spinning(false)
            .map_err(rt)?
            .with_inter_op_spinning(false)
            .map_err(rt)?
            .commit_from_file(&manifest.file)
            .map_err(rt)?;
        let model_err = |message: String| DetectError::Model {
            model: manifest.name.clone(),
            message,
        };
        let input = session
            .inputs()
            .first()
            .ok_or_else(|| model_err("model has no input".into()))?;
        let want = [
            1i64,
            3,
            i64::from(manifest.input_height),
            i64::from(manifest.input_width),
        ];
        if let Some(shape) = input.dtype().tensor_shape() {
            let dims: Vec<i64> = shape.iter().copied().collect();
            let matches = dims.len() == 4 && dims.iter().zip(want).all(|(&d, w)| d < 0 || d == w);
            if !matches {
                return Err(model_err(format!(
                    "manifest expects input {want:?}, model {} has {dims:?}",
                    manifest.file.display()
                )));
            }
        }
        let input_name = input.name().to_string();
        Ok(Self {
            pre: preprocess::Preprocessor::new(manifest),
            manifest: manifest.clone(),
            options,
            session,
            input_name,
        })
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Detects objects in `image`, a frame whose source was `source_size` (boxes are returned in
    /// source pixels). Returns the detections and where the time went.
    pub fn detect(
        &mut self,
        image: &Image,
        source_size: Size,
    ) -> Result<(Vec<Detection>, DetectTimes), DetectError> {
        if image.format.channels() != 3 {
            return Err(DetectError::Model {
                model: self.manifest.name.clone(),
                message: format!("takes colour frames, not {}", image.format.name()),
            });
        }
        let began = Instant::now();
        let geometry = self.pre.prepare(image);
        let (w, h) = (
            self.manifest.input_width as usize,
            self.manifest.input_height as usize,
        );
        let started = Instant::now();
        let cpu = vigil_core::cpu::thread_time();
        let tensor =
            TensorRef::from_array_view(([1usize, 3, h, w], self.pre.buffer())).map_err(rt)?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(rt)?;
        let infer = started.elapsed();
        let infer_cpu = vigil_core::cpu::thread_time() - cpu;
        let preprocess = started - began;
        let mut tensors = Vec::with_capacity(outputs.len());
        for i in 0..outputs.len() {
            let (shape, data) = outputs[i].try_extract_tensor::<f32>().map_err(rt)?;
            tensors.push((shape.iter().copied().collect::<Vec<i64>>(), data));
        }
        let threshold = self.options.score_threshold;
        let candidates = match self.manifest.family {
            ModelFamily::Yolox => decode::yolox(&tensors, &self.manifest, threshold),
            ModelFamily::Picodet => decode::picodet(&tensors, &self.manifest, threshold),
            ModelFamily::Yolov8 => decode::yolov8(&tensors, &self.manifest, threshold),
        }
        .map_err(|message| DetectError::Model {
            model: self.manifest.name.clone(),
            message,
        })?;
        let kept = nms::nms_by_group(candidates, &self.manifest.group_of, self.options.nms_iou);
        let detections = kept
            .into_iter()
            .map(|c| {
                let bbox_px = geometry.to_source(c.bbox, image.size, source_size);
                Detection {
                    bbox_px,
                    class_id: c.class_id,
                    class: self.manifest.labels[c.class_id as usize].clone(),
                    group: self.manifest.group_of[c.class_id as usize].clone(),
                    score: c.score,
                }
            })
            .filter(|d| d.bbox_px.area() > 0.0)
            .collect();
        let times = DetectTimes {
            preprocess,
            infer,
            infer_cpu,
            postprocess: started.elapsed() - infer,
        };
        Ok((detections, times))
    }
}

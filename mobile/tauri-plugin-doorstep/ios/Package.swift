// swift-tools-version:5.3

import PackageDescription

let package = Package(
  name: "tauri-plugin-doorstep",
  platforms: [
    .iOS(.v15),
  ],
  products: [
    .library(
      name: "tauri-plugin-doorstep",
      type: .static,
      targets: ["tauri-plugin-doorstep"])
  ],
  dependencies: [
    .package(name: "Tauri", path: "../.tauri/tauri-api")
  ],
  targets: [
    .target(
      name: "tauri-plugin-doorstep",
      dependencies: [
        .byName(name: "Tauri")
      ],
      path: "Sources")
  ]
)

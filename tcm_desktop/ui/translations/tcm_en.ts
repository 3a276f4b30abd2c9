<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB" sourcelanguage="zh_CN">
<context>
    <name>tcm</name>
    <message>
        <source>Alt+键 改类别</source>
        <translation>Alt+key changes the category</translation>
    </message>
    <message>
        <source>中医病历结构化</source>
        <translation>TCM Record Structurer</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>全部确认</source>
        <translation>Accept all</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>关闭摄像头</source>
        <translation>Stop camera</translation>
    </message>
    <message>
        <source>分析</source>
        <translation>Analyse</translation>
    </message>
    <message>
        <source>分析失败：</source>
        <translation>Analysis failed: </translation>
    </message>
    <message>
        <source>分析完成：%n 个实体</source>
        <translation>Analysis done: %n entities</translation>
    </message>
    <message>
        <source>分段</source>
        <translation>Sections</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>删除实体</source>
        <translation>Delete entity</translation>
    </message>
    <message>
        <source>剂数</source>
        <translation>Doses</translation>
    </message>
    <message>
        <source>剂量</source>
        <translation>Dose</translation>
    </message>
    <message>
        <source>剪贴板中没有图片</source>
        <translation>No image on the clipboard</translation>
    </message>
    <message>
        <source>包含 .txt 或 .jsonl 病历的文件夹</source>
        <translation>Folder with .txt or .jsonl records</translation>
    </message>
    <message>
        <source>医师姓名</source>
        <translation>Doctor's name</translation>
    </message>
    <message>
        <source>历史记录</source>
        <translation>History</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>右端收缩</source>
        <translation>Narrow right end</translation>
    </message>
    <message>
        <source>向右扩展</source>
        <translation>Widen right</translation>
    </message>
    <message>
        <source>向左扩展</source>
        <translation>Widen left</translation>
    </message>
    <message>
        <source>否定</source>
        <translation>Absent</translation>
    </message>
    <message>
        <source>在此输入或粘贴病历，按 Ctrl+Enter 分析</source>
        <translation>Type or paste a record here, press Ctrl+Enter to analyse</translation>
    </message>
    <message>
        <source>处方</source>
        <translation>Prescription</translation>
    </message>
    <message>
        <source>完成：已保存 %1 / %2 条</source>
        <translation>Done: saved %1 / %2 records</translation>
    </message>
    <message>
        <source>实体</source>
        <translation>Entities</translation>
    </message>
    <message>
        <source>实体 %1 · 未审核 %2 · 已确认 %3 · 已修改 %4 · 新增 %5</source>
        <translation>Entities %1 · unreviewed %2 · accepted %3 · corrected %4 · added %5</translation>
    </message>
    <message>
        <source>实体数</source>
        <translation>Entities</translation>
    </message>
    <message>
        <source>实时预览中：对准舌面后点击“拍照”</source>
        <translation>Live preview: aim at the tongue, then click “Capture”</translation>
    </message>
    <message>
        <source>审核</source>
        <translation>Review</translation>
    </message>
    <message>
        <source>导入失败：</source>
        <translation>Import failed: </translation>
    </message>
    <message>
        <source>导出 CSV</source>
        <translation>Export CSV</translation>
    </message>
    <message>
        <source>导出 JSON</source>
        <translation>Export JSON</translation>
    </message>
    <message>
        <source>导出 PDF</source>
        <translation>Export PDF</translation>
    </message>
    <message>
        <source>导出失败：</source>
        <translation>Export failed: </translation>
    </message>
    <message>
        <source>尚无实体：请先分析病历</source>
        <translation>No entities yet: analyse the record first</translation>
    </message>
    <message>
        <source>工具栏</source>
        <translation>Toolbar</translation>
    </message>
    <message>
        <source>左端收缩</source>
        <translation>Narrow left end</translation>
    </message>
    <message>
        <source>已保存 %1 / %2</source>
        <translation>Saved %1 / %2</translation>
    </message>
    <message>
        <source>已保存（第 %n 版）</source>
        <translation>Saved (version %n)</translation>
    </message>
    <message>
        <source>已修改</source>
        <translation>corrected</translation>
    </message>
    <message>
        <source>已取消分析</source>
        <translation>Analysis cancelled</translation>
    </message>
    <message>
        <source>已取消：已保存 %1 / %2 条</source>
        <translation>Cancelled: saved %1 / %2 records</translation>
    </message>
    <message>
        <source>已导出：</source>
        <translation>Exported: </translation>
    </message>
    <message>
        <source>已恢复上次未保存的草稿（%1）</source>
        <translation>Restored the unsaved draft from last time (%1)</translation>
    </message>
    <message>
        <source>已恢复该记录未保存的修改（%1）</source>
        <translation>Restored unsaved changes of this record (%1)</translation>
    </message>
    <message>
        <source>已拍照</source>
        <translation>Photo taken</translation>
    </message>
    <message>
        <source>已确认</source>
        <translation>accepted</translation>
    </message>
    <message>
        <source>开始</source>
        <translation>Start</translation>
    </message>
    <message>
        <source>患者</source>
        <translation>Patient</translation>
    </message>
    <message>
        <source>患者姓名（可选）</source>
        <translation>Patient name (optional)</translation>
    </message>
    <message>
        <source>患者：</source>
        <translation>Patient:</translation>
    </message>
    <message>
        <source>所见</source>
        <translation>Findings</translation>
    </message>
    <message>
        <source>打开摄像头</source>
        <translation>Start camera</translation>
    </message>
    <message>
        <source>批量导入</source>
        <translation>Batch import</translation>
    </message>
    <message>
        <source>批量导入…</source>
        <translation>Batch import…</translation>
    </message>
    <message>
        <source>拍照</source>
        <translation>Capture</translation>
    </message>
    <message>
        <source>拖入、粘贴或选择一张舌象照片</source>
        <translation>Drop, paste or choose a tongue photo</translation>
    </message>
    <message>
        <source>搜索病历全文，如：胃脘胀痛、柴胡</source>
        <translation>Search the full text, e.g. 胃脘胀痛, 柴胡</translation>
    </message>
    <message>
        <source>摄像头 %1</source>
        <translation>Camera %1</translation>
    </message>
    <message>
        <source>摘要</source>
        <translation>Excerpt</translation>
    </message>
    <message>
        <source>撤销</source>
        <translation>Undo</translation>
    </message>
    <message>
        <source>文件</source>
        <translation>File</translation>
    </message>
    <message>
        <source>文件夹不存在</source>
        <translation>The folder does not exist</translation>
    </message>
    <message>
        <source>断言</source>
        <translation>Assertion</translation>
    </message>
    <message>
        <source>新增</source>
        <translation>added</translation>
    </message>
    <message>
        <source>新建</source>
        <translation>New</translation>
    </message>
    <message>
        <source>新病历</source>
        <translation>New record</translation>
    </message>
    <message>
        <source>方剂</source>
        <translation>Formula</translation>
    </message>
    <message>
        <source>无法读取该图片</source>
        <translation>Cannot read this image</translation>
    </message>
    <message>
        <source>更改类别</source>
        <translation>Change category</translation>
    </message>
    <message>
        <source>更新时间</source>
        <translation>Updated</translation>
    </message>
    <message>
        <source>未审核</source>
        <translation>unreviewed</translation>
    </message>
    <message>
        <source>未检测到可用的摄像头，请检查连接或选择其他设备。</source>
        <translation>No working camera found; check the connection or choose another device.</translation>
    </message>
    <message>
        <source>标题</source>
        <translation>Title</translation>
    </message>
    <message>
        <source>模型不可用</source>
        <translation>Model unavailable</translation>
    </message>
    <message>
        <source>模型加载中…</source>
        <translation>Loading model…</translation>
    </message>
    <message>
        <source>模型加载失败：</source>
        <translation>Model failed to load: </translation>
    </message>
    <message>
        <source>模型尚未加载完成，请稍候</source>
        <translation>The model is still loading, please wait</translation>
    </message>
    <message>
        <source>模型就绪</source>
        <translation>Model ready</translation>
    </message>
    <message>
        <source>正在分析…</source>
        <translation>Analysing…</translation>
    </message>
    <message>
        <source>正在取消…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>正在打开摄像头…</source>
        <translation>Opening camera…</translation>
    </message>
    <message>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>添加实体</source>
        <translation>Add entity</translation>
    </message>
    <message>
        <source>版本</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>用法</source>
        <translation>Usage</translation>
    </message>
    <message>
        <source>界面语言将在重新启动后生效</source>
        <translation>The language change takes effect after a restart</translation>
    </message>
    <message>
        <source>确认</source>
        <translation>Accept</translation>
    </message>
    <message>
        <source>移除</source>
        <translation>Remove</translation>
    </message>
    <message>
        <source>空白病历无需保存</source>
        <translation>Nothing to save: the record is empty</translation>
    </message>
    <message>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <source>粘贴</source>
        <translation>Paste</translation>
    </message>
    <message>
        <source>结构化</source>
        <translation>Structured</translation>
    </message>
    <message>
        <source>结构化实体</source>
        <translation>Structured entities</translation>
    </message>
    <message>
        <source>编辑改动了 %n 个实体，已移除</source>
        <translation>The edit touched %n entities; they were removed</translation>
    </message>
    <message>
        <source>置信度</source>
        <translation>Score</translation>
    </message>
    <message>
        <source>舌象</source>
        <translation>Tongue</translation>
    </message>
    <message>
        <source>舌象分析：</source>
        <translation>Tongue analysis: </translation>
    </message>
    <message>
        <source>舌象分析：尚无照片</source>
        <translation>Tongue analysis: no photo yet</translation>
    </message>
    <message>
        <source>舌象分析：尚未分析（舌象分析模块将在后续版本提供）</source>
        <translation>Tongue analysis: not analysed yet (the tongue analysis module comes in a later release)</translation>
    </message>
    <message>
        <source>药名</source>
        <translation>Herb</translation>
    </message>
    <message>
        <source>规范名</source>
        <translation>Canonical name</translation>
    </message>
    <message>
        <source>设置</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>设置…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <source>设置断言</source>
        <translation>Set assertion</translation>
    </message>
    <message>
        <source>诊所名称</source>
        <translation>Clinic name</translation>
    </message>
    <message>
        <source>语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>请先输入病历文本</source>
        <translation>Type a record first</translation>
    </message>
    <message>
        <source>请先选择一个实体（Tab 键逐个跳转）</source>
        <translation>Select an entity first (Tab moves from entity to entity)</translation>
    </message>
    <message>
        <source>调整边界</source>
        <translation>Adjust boundaries</translation>
    </message>
    <message>
        <source>选择文件夹</source>
        <translation>Choose folder</translation>
    </message>
    <message>
        <source>选择文件夹后点击“开始”</source>
        <translation>Choose a folder, then click “Start”</translation>
    </message>
    <message>
        <source>选择照片…</source>
        <translation>Choose photo…</translation>
    </message>
    <message>
        <source>选择舌象照片</source>
        <translation>Choose a tongue photo</translation>
    </message>
    <message>
        <source>重做</source>
        <translation>Redo</translation>
    </message>
</context>
</TS>

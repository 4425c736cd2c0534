package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types every wecom.dev kind reports.
const (
	// ConditionReady is True when the WeCom object exists and matches the spec.
	ConditionReady = "Ready"
	// ConditionSynced is True when the last reconcile succeeded.
	ConditionSynced = "Synced"
)

// Condition reasons. The condition message says what a person should do.
const (
	ReasonAvailable          = "Available"
	ReasonCreating           = "Creating"
	ReasonDeleting           = "Deleting"
	ReasonReconcileSuccess   = "ReconcileSuccess"
	ReasonReconcileError     = "ReconcileError"
	ReasonWeComRejected      = "WeComRejected"
	ReasonCredentialsInvalid = "CredentialsInvalid"
	ReasonPermissionDenied   = "PermissionDenied"
	ReasonUntrustedIP        = "UntrustedIP"
	ReasonConnectionNotReady = "ConnectionNotReady"
	ReasonSecretNotFound     = "SecretNotFound"
	// ReasonCallbackNotConfigured: the connection's callback Secret lacks a valid Token or
	// EncodingAESKey; callbacks are refused until it has them.
	ReasonCallbackNotConfigured = "CallbackNotConfigured"
	ReasonDependencyNotReady    = "DependencyNotReady"
	ReasonDeleteBlocked         = "DeleteBlocked"
	ReasonCreateIncomplete      = "CreateIncomplete"
	ReasonRetrying              = "Retrying"
	ReasonOrphaned              = "Orphaned"
	ReasonHeld                  = "Held"
	ReasonSent                  = "Sent"
	ReasonFailed                = "Failed"
)

// ConnectionReference names a WeComConnection in the same namespace.
type ConnectionReference struct {
	// name of the WeComConnection in the same namespace as this object. Cross-namespace
	// references are not allowed.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// LocalObjectReference names another object of the kind the field documents, in the same namespace.
type LocalObjectReference struct {
	// name of the object in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretKeySelector selects one key of a Secret in the same namespace.
type SecretKeySelector struct {
	// name of the Secret in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key within the Secret's data whose value is used.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// DeletionPolicy says what happens in WeCom when the Kubernetes object is deleted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionDelete deletes the WeCom object with the Kubernetes object.
	DeletionDelete DeletionPolicy = "Delete"
	// DeletionOrphan leaves the WeCom object in place.
	DeletionOrphan DeletionPolicy = "Orphan"
)

// ManagedSpec holds the fields every WeCom-backed kind shares.
type ManagedSpec struct {
	// connectionRef names the WeComConnection (same namespace) whose corp and app credentials
	// are used. Immutable: an object cannot move to another corp.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="connectionRef is immutable"
	ConnectionRef ConnectionReference `json:"connectionRef"`
}

// DeletableSpec is ManagedSpec plus deletionPolicy, for kinds WeCom can delete.
type DeletableSpec struct {
	ManagedSpec `json:",inline"`
	// deletionPolicy says whether deleting this object deletes the WeCom object (Delete, the
	// default) or leaves it in WeCom (Orphan).
	// +kubebuilder:default=Delete
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// ResourceStatus is the status every wecom.dev kind shares.
type ResourceStatus struct {
	// conditions: Ready (the WeCom object exists and matches the spec) and Synced (the last
	// reconcile succeeded). A False condition's message carries the WeCom errcode and what to do.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the metadata.generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// GetConditions returns a pointer to the conditions, for meta.SetStatusCondition.
func (s *ResourceStatus) GetConditions() *[]metav1.Condition { return &s.Conditions }

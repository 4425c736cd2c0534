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
	// ReasonDrifted: WeCom differs from the spec and the management policies do not allow the
	// operator to repair it (no Update); status.drift lists the fields.
	ReasonDrifted = "Drifted"
	// ReasonNotInWeCom: WeCom has no such object and the management policies do not allow the
	// operator to create it (no Create).
	ReasonNotInWeCom         = "NotInWeCom"
	ReasonDependencyNotReady = "DependencyNotReady"
	ReasonDeleteBlocked      = "DeleteBlocked"
	ReasonCreateIncomplete   = "CreateIncomplete"
	ReasonRetrying           = "Retrying"
	ReasonOrphaned           = "Orphaned"
	ReasonHeld               = "Held"
	ReasonSent               = "Sent"
	ReasonFailed             = "Failed"
	// ReasonInUse: a WeComConnection was deleted but is kept until the objects that need it
	// to delete their WeCom counterparts are gone; the message names them.
	ReasonInUse = "InUse"
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

	// managementPolicies says what the operator may do to the WeCom object, following
	// Crossplane's model: ["*"] (the default) is full management; otherwise a set that
	// includes Observe, plus any of Create (make it when WeCom lacks it), Update (repair it
	// when it differs from the spec), Delete (delete it with the Kubernetes object) and
	// LateInitialize (fill the spec fields the kind lists as late-initialised, when left
	// empty, from WeCom's values; the only spec write the operator makes, and never to a
	// field that is set). ["Observe"] never writes to WeCom: the object reports what WeCom
	// holds (status.drift lists what differs, Ready=False reason Drifted) and repairs
	// nothing; without Delete, deleting the Kubernetes object leaves WeCom alone whatever
	// deletionPolicy says.
	// +kubebuilder:default={"*"}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	// +listType=set
	// +kubebuilder:validation:XValidation:rule="!('*' in self) || size(self) == 1",message="\"*\" means every policy and stands alone"
	// +kubebuilder:validation:XValidation:rule="'*' in self || 'Observe' in self",message="managementPolicies must include Observe: the operator cannot create, update or delete what it does not read"
	// +optional
	ManagementPolicies []ManagementPolicy `json:"managementPolicies,omitempty"`
}

// ManagementPolicy is one thing the operator may do to a WeCom object.
// +kubebuilder:validation:Enum="*";Observe;Create;Update;Delete;LateInitialize
type ManagementPolicy string

// Management policies.
const (
	ManagementAll     ManagementPolicy = "*"
	ManagementObserve ManagementPolicy = "Observe"
	ManagementCreate  ManagementPolicy = "Create"
	ManagementUpdate  ManagementPolicy = "Update"
	ManagementDelete  ManagementPolicy = "Delete"
	// ManagementLateInitialize fills empty spec fields from WeCom (see each kind's docs).
	ManagementLateInitialize ManagementPolicy = "LateInitialize"
)

// Allows says whether the policies let the operator do p; none set means ["*"].
func (s *ManagedSpec) Allows(p ManagementPolicy) bool {
	if len(s.ManagementPolicies) == 0 {
		return true
	}
	for _, have := range s.ManagementPolicies {
		if have == ManagementAll || have == p {
			return true
		}
	}
	return false
}

// DriftedField is one field whose WeCom value differs from the spec's.
type DriftedField struct {
	// field is the spec field, as a JSON path below spec (for example name, departments[0]).
	Field string `json:"field"`
	// wecom is WeCom's value, as text (at most 256 characters).
	WeCom string `json:"wecom"`
	// spec is the spec's value, as text (at most 256 characters).
	Spec string `json:"spec"`
}

// MaxDriftedFields bounds ResourceStatus.Drift.
const MaxDriftedFields = 20

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

// ManagedStatus is the status every WeCom-backed kind shares: ResourceStatus and the drift.
type ManagedStatus struct {
	ResourceStatus `json:",inline"`
	// drift lists the fields whose WeCom value differs from the spec, as the last read found
	// them: shown while an object without the Update policy differs (Ready=False, reason
	// Drifted), and for the moment before an update repairs it. Empty once WeCom matches.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Drift []DriftedField `json:"drift,omitempty"`
}

// GetConditions returns a pointer to the conditions, for meta.SetStatusCondition.
func (s *ResourceStatus) GetConditions() *[]metav1.Condition { return &s.Conditions }
